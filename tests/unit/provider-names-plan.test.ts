// Issue 12 in the pure core: the migration to a stable name plans as an update with one unplug and
// one plug, a VBD on another disk (a swap) is drift in words and is repaired before anything else.
import { planConverge, type PlanView, type VbdView } from "#provider/core/converge-plan.js";
import { planDiff } from "#provider/core/diff-plan.js";
import { repairsOf } from "#provider/core/drift.js";
import { renderRule } from "#provider/core/rule.js";
import {
  complete,
  inputs,
  kindsOf,
  ourVbd as fixtureVbd,
  OWNER,
  state,
  VM_UUID,
} from "./provider-plan-fixture.js";

const wanted = inputs();
/** A kernel-named passthrough, complete, on a host that keeps kernel names. */
const ourVbd: VbdView = { ...fixtureVbd, userdevice: "5" };
const kernelNamed = { ...complete, vbd: ourVbd };

describe("migration to a stable name (the host resolves symlinks)", () => {
  const resolving: PlanView = { ...kernelNamed, wantedNaming: "stable" };
  const stable = renderRule(wanted.disk, OWNER, "stable");

  test("one unplug while the old VDI exists, the rule switched, a scan, one plug in the same slot", () => {
    expect(planConverge(resolving, wanted)).toEqual({
      release: [{ kind: "unplugVbd" }, { kind: "destroyVbd" }],
      dom0: {
        writeRule: { path: stable.path, text: stable.text },
        retrigger: "sdb",
        awaitLink: { path: "/dev/xapi/block/xp-serial-S3Z1", timeoutSeconds: 60, kernelName: "sdb" },
      },
      attach: [
        { kind: "ensureVdi", location: "/dev/xapi/block/xp-serial-S3Z1" },
        { kind: "createVbd", vmUuid: VM_UUID, mode: "RW", userdevice: "5", bootable: false },
        { kind: "plugVbd" },
      ],
      forget: undefined,
    });
  });

  test("a halted VM: no unplug, no plug", () => {
    const halted: PlanView = {
      ...resolving,
      vm: { ...kernelNamed.vm!, powerState: "Halted" },
      vbd: { ...ourVbd, currentlyAttached: false },
    };
    const plan = planConverge(halted, wanted);
    expect(plan.release).toEqual([{ kind: "destroyVbd" }]);
    expect(kindsOf(plan)).not.toContain("unplugVbd");
    expect(kindsOf(plan)).not.toContain("plugVbd");
  });

  test("done: the stable rule in place plans nothing more", () => {
    const migrated: PlanView = {
      ...resolving,
      symlinkNaming: "stable",
      ruleText: stable.text,
      vbd: { ...ourVbd, vdiUuid: "vdi-2" },
      vdi: { uuid: "vdi-2" },
    };
    expect(kindsOf(planConverge(migrated, wanted))).toEqual(["ensureVdi"]);
  });

  test("preview: a refreshed state shows the migration as an update, never a replace", () => {
    // What refresh records for this host: the drift is read from the plan of the view.
    const drift = repairsOf({ ...resolving, smVersion: "3.2.3", vbdOtherDisk: undefined }, wanted, "sdb");
    const old = state(
      wanted,
      { symlinkNaming: "kernelName", hostResolvesSymlinks: true, smVersion: "3.2.3" },
      drift,
    );
    const plan = planDiff(old, wanted as never);
    expect(plan).toMatchObject({ changes: true, replaces: [] });
    expect(plan.reasons).toEqual([
      "drift: the symlink is named after the kernel name (sdb): this host resolves symlinks (sm 3.2.3), so an update renames it xp-serial-S3Z1, which survives reboots",
    ]);
  });

  test("no migration where the host keeps kernel names, for kernelName identities, or from states that do not say", () => {
    const keeps = state(wanted, { symlinkNaming: "kernelName", hostResolvesSymlinks: false });
    expect(planDiff(keeps, wanted as never).changes).toBe(false);
    const byKernel = inputs({ disk: { kernelName: "sdb" } });
    const kernelIdentity = state(byKernel, { symlinkNaming: "kernelName", hostResolvesSymlinks: true });
    expect(planDiff(kernelIdentity, byKernel as never).changes).toBe(false);
    expect(planDiff(state(wanted), wanted as never).changes).toBe(false);
  });
});

describe("a VBD on another disk (two disks swapped kernel names)", () => {
  test("drift names both disks as users write them", () => {
    const other = {
      kernelName: "sdc",
      devNumber: "8:32",
      sizeBytes: 1,
      partitions: [],
      holders: [],
      properties: { ID_SERIAL_SHORT: "ZS4B" },
      links: [],
    };
    const swapped = { ...kernelNamed, vdi: { uuid: "vdi-2" }, vbdOtherDisk: other, smVersion: undefined };
    expect(repairsOf(swapped, wanted, "sdb")).toEqual([
      "the VBD points at disk serial ZS4B now; expected serial S3Z1",
    ]);
  });

  test("the repair comes first: the wrong VBD out, before the rule is rewritten, then the right one in the same slot", () => {
    const swapped: PlanView = {
      ...kernelNamed,
      ruleText: undefined, // a rule to rewrite too: it still goes after the repair
      vdi: { uuid: "vdi-2" },
      vbdOtherDisk: { kernelName: "sdc" },
    };
    const plan = planConverge(swapped, wanted);
    expect(plan.release).toEqual([{ kind: "unplugVbd" }, { kind: "destroyVbd" }]);
    expect(kindsOf(plan)).toEqual([
      "unplugVbd",
      "destroyVbd",
      "writeRule",
      "retrigger",
      "awaitLink",
      "ensureVdi",
      "createVbd",
      "plugVbd",
    ]);
    const create = plan.attach.find((step) => step.kind === "createVbd");
    expect(create).toMatchObject({ userdevice: "5", mode: "RW" });
  });

  test("another resource's VBD still plugged on our disk: our plug waits for it, never beside it", () => {
    const other: VbdView = { ...ourVbd, uuid: "vbd-of-b", vmUuid: "vm-b", ownerKey: "homelab/dev/b" };
    const swapped: PlanView = {
      ...kernelNamed,
      vdi: { uuid: "vdi-2" },
      vbdOtherDisk: { kernelName: "sdc" },
      misplacedVbds: [other],
    };
    const { attach } = planConverge(swapped, wanted);
    expect(attach.map((step) => step.kind).slice(-2)).toEqual(["awaitVbdsDetached", "plugVbd"]);
    expect(attach).toContainEqual({ kind: "awaitVbdsDetached", vbdUuids: ["vbd-of-b"], timeoutSeconds: 60 });
  });
});
