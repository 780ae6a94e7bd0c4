// planConverge: the plan, part by part, from an observation to the wanted state, and the refusals.
import { bootRepairFacts, NO_BOOT_REPAIR } from "#provider/core/boot-repair.js";
import { planConverge, type PlanView, type VbdView } from "#provider/core/converge-plan.js";
import { RefusedError } from "#provider/core/errors.js";
import { renderRule } from "#provider/core/rule.js";
import { inputs, kindsOf, ourVbd, OWNER, VM_UUID } from "./provider-plan-fixture.js";

const wanted = inputs();

/** A guest that takes hot-plugged disks on its own host. */
const PV_GUEST = {
  hvm: false,
  canHotplug: true,
  residentOnUuid: "host-uuid",
  residentOnName: "xcp1",
  affinityUuid: "",
};
const rule = renderRule(wanted.disk, OWNER);

/** Nothing made yet: a fresh disk and a running VM. */
const fresh: PlanView = {
  disk: { kernelName: "sdb" },
  ruleText: undefined,
  otherRules: [],
  symlinkPresent: false,
  hostUuid: "host-uuid",
  hostName: "xcp1",
  diskProblem: undefined,
  diskUse: undefined,
  sr: { ref: "OpaqueRef:sr" },
  vdi: undefined,
  vm: { uuid: VM_UUID, powerState: "Running", isControlDomain: false, ...PV_GUEST },
  vbd: undefined,
  otherVbds: [],
  misplacedVbds: [],
  vbdOtherDisk: undefined,
  wantedNaming: "kernelName",
  symlinkNaming: "kernelName",
  owner: OWNER,
  previousOwner: undefined,
  claimKey: undefined,
  claimOwner: undefined,
  foreignOwner: undefined,
  // A host that resolves symlinks: no boot repair (tests/unit/provider-boot-repair.test.ts has it).
  bootRepair: bootRepairFacts(NO_BOOT_REPAIR, {
    needed: false,
    marker: "m",
    identity: wanted.disk,
    tag: "host-uuid:x",
    owner: OWNER,
  }),
};

/** Everything as wanted. */
const done: PlanView = {
  ...fresh,
  ruleText: rule.text,
  symlinkPresent: true,
  vdi: { uuid: "vdi-1" },
  vbd: ourVbd,
};

const kinds = (observation: PlanView, want = wanted) => kindsOf(planConverge(observation, want));

describe("create from nothing", () => {
  test("running VM: dom0 writes the rule and waits for the link; then VDI, VBD, plug, with the inputs' values", () => {
    expect(planConverge(fresh, wanted)).toEqual({
      release: [],
      dom0: {
        writeRule: { path: rule.path, text: rule.text },
        retrigger: "sdb",
        awaitLink: { path: "/dev/xapi/block/sdb", timeoutSeconds: 60, kernelName: "sdb" },
      },
      attach: [
        { kind: "ensureVdi", location: "/dev/xapi/block/sdb" },
        { kind: "createVbd", vmUuid: VM_UUID, mode: "RW", userdevice: "autodetect", bootable: false },
        { kind: "plugVbd" },
      ],
      forget: undefined,
    });
  });

  test("a disk claimed by an earlier owner id of this resource: the claim is re-pointed in the same change", () => {
    const claimed = { ...fresh, claimKey: "serial-S3Z1", claimOwner: "old-id", previousOwner: "old-id" };
    expect(planConverge(claimed, wanted).dom0?.claim).toEqual({
      key: "serial-S3Z1",
      owner: OWNER,
      previous: "old-id",
    });
    expect(planConverge({ ...claimed, claimOwner: OWNER }, wanted).dom0?.claim).toBeUndefined();
  });

  test("halted VM: the VBD is created but not plugged", () => {
    expect(
      kinds({ ...fresh, vm: { uuid: VM_UUID, powerState: "Halted", isControlDomain: false, ...PV_GUEST } }),
    ).toEqual(["writeRule", "retrigger", "awaitLink", "ensureVdi", "createVbd"]);
  });

  test("attach: false never plugs", () => {
    expect(kinds(fresh, inputs({ attach: false }))).not.toContain("plugVbd");
  });
});

describe("converging is idempotent", () => {
  test("all done: only the VDI lookup remains (it tells the executor which VDI is current)", () => {
    expect(kinds(done)).toEqual(["ensureVdi"]);
  });

  test("after a crash between rule and VBD, it resumes where it stopped", () => {
    expect(kinds({ ...fresh, ruleText: rule.text, symlinkPresent: true, vdi: { uuid: "vdi-1" } })).toEqual([
      "ensureVdi",
      "createVbd",
      "plugVbd",
    ]);
  });
});

describe("repairing drift", () => {
  test("rule deleted: rewritten and retriggered, the rest kept", () => {
    expect(kinds({ ...done, ruleText: undefined })).toEqual([
      "writeRule",
      "retrigger",
      "awaitLink",
      "ensureVdi",
    ]);
  });

  test("rule edited: rewritten", () => {
    expect(kinds({ ...done, ruleText: `${rule.text}# edited\n` })[0]).toBe("writeRule");
  });

  test("a VDI a scan kept while our link dangled is plugged only after the link resolves again", () => {
    // sm's udev scan keeps a dangling entry's VDI (size 0) and attach fails until the link is good.
    expect(kinds({ ...fresh, ruleText: rule.text, symlinkPresent: false, vdi: { uuid: "vdi-1" } })).toEqual([
      "retrigger",
      "awaitLink",
      "ensureVdi",
      "createVbd",
      "plugVbd",
    ]);
  });

  test("symlink gone: retriggered only", () => {
    expect(kinds({ ...done, symlinkPresent: false })).toEqual(["retrigger", "awaitLink", "ensureVdi"]);
  });

  test("VBD unplugged while the VM runs: plugged again", () => {
    expect(kinds({ ...done, vbd: { ...ourVbd, currentlyAttached: false } })).toEqual([
      "ensureVdi",
      "plugVbd",
    ]);
  });

  test("VBD destroyed: re-created and plugged", () => {
    expect(kinds({ ...done, vbd: undefined })).toEqual(["ensureVdi", "createVbd", "plugVbd"]);
  });

  test("disk back as sdc after a reboot: VBD of the stale VDI replaced by one on the new VDI, in the same slot", () => {
    const renamed: PlanView = {
      ...done,
      disk: { kernelName: "sdc" },
      vdi: { uuid: "vdi-2" },
      vbd: { ...ourVbd, currentlyAttached: false },
    };
    expect(planConverge(renamed, wanted)).toEqual({
      release: [],
      dom0: undefined,
      attach: [
        { kind: "ensureVdi", location: "/dev/xapi/block/sdc" },
        { kind: "destroyVbd" },
        { kind: "createVbd", vmUuid: VM_UUID, mode: "RW", userdevice: "1", bootable: false },
        { kind: "plugVbd" },
      ],
      forget: undefined,
    });
  });

  test("mode change: unplug before destroying, re-create with the new mode, plug", () => {
    expect(planConverge(done, inputs({ mode: "RO" })).attach.slice(1)).toEqual([
      { kind: "unplugVbd" },
      { kind: "destroyVbd" },
      { kind: "createVbd", vmUuid: VM_UUID, mode: "RO", userdevice: "1", bootable: false },
      { kind: "plugVbd" },
    ]);
  });

  test("userdevice change re-creates; autodetect accepts the device the VBD has", () => {
    expect(kinds(done, inputs({ userdevice: "4" }))).toEqual([
      "ensureVdi",
      "unplugVbd",
      "destroyVbd",
      "createVbd",
      "plugVbd",
    ]);
    expect(kinds(done, inputs({ userdevice: "1" }))).toEqual(["ensureVdi"]);
  });

  test("bootable changes in place", () => {
    expect(planConverge(done, inputs({ bootable: true })).attach.slice(1)).toEqual([
      { kind: "setVbdBootable", bootable: true },
    ]);
  });

  test("attach turned off: unplugged", () => {
    expect(kinds(done, inputs({ attach: false }))).toEqual(["ensureVdi", "unplugVbd"]);
  });
});

describe("others' rules and VBDs", () => {
  const handMade = {
    path: "/etc/udev/rules.d/99-mine.rules",
    writtenBy: "other",
    evidence: 'matches KERNEL "sdb"',
  } as const;
  const untagged: VbdView = { ...ourVbd, uuid: "vbd-hand" };

  test("a hand-made rule is refused without adopt", () => {
    expect(() => planConverge({ ...fresh, otherRules: [handMade] }, wanted)).toThrow(
      expect.objectContaining({
        code: "DISK_IN_OTHER_RULE",
        params: { disk: "serial S3Z1", rule: handMade.path },
      }) as Error,
    );
  });

  test("adopt takes over a hand-made passthrough: our rule replaces theirs, their VBD becomes ours", () => {
    const observation: PlanView = {
      ...fresh,
      otherRules: [handMade],
      symlinkPresent: true,
      vdi: { uuid: "vdi-1" },
      otherVbds: [untagged],
    };
    expect(planConverge(observation, inputs({ adopt: true }))).toEqual({
      release: [],
      dom0: {
        writeRule: { path: rule.path, text: rule.text },
        setAsideRules: [handMade.path],
        retrigger: "sdb",
        awaitLink: { path: "/dev/xapi/block/sdb", timeoutSeconds: 60, kernelName: "sdb" },
      },
      attach: [
        { kind: "ensureVdi", location: "/dev/xapi/block/sdb" },
        { kind: "adoptVbd", vbdUuid: "vbd-hand" },
      ],
      forget: undefined,
    });
  });

  test("another PassthroughDisk's rule for the same disk is refused even with adopt", () => {
    const other = {
      path: "/etc/udev/rules.d/65-xen-passthrough-x.rules",
      writtenBy: "xen-passthrough",
      evidence: "e",
    } as const;
    expect(() => planConverge({ ...fresh, otherRules: [other] }, inputs({ adopt: true }))).toThrow(
      RefusedError,
    );
  });

  test("an unmanaged VBD on this VM is refused without adopt, and names adopt", () => {
    expect(() => planConverge({ ...done, vbd: undefined, otherVbds: [untagged] }, wanted)).toThrow(
      /adopt: true/,
    );
  });

  test("a disk attached to another VM is refused even with adopt", () => {
    const elsewhere = { ...untagged, vmUuid: "99999999-4e5f-6a7b-8c9d-0e1f2a3b4c5d" };
    expect(() =>
      planConverge({ ...done, vbd: undefined, otherVbds: [elsewhere] }, inputs({ adopt: true })),
    ).toThrow(expect.objectContaining({ code: "DISK_ATTACHED_ELSEWHERE" }) as Error);
  });

  test("no disk or no VM: refused with what is missing", () => {
    expect(() => planConverge({ ...fresh, disk: undefined }, wanted)).toThrow(
      'the disk serial S3Z1 is not present on host "xcp1" (host-uuid): no disk with serial S3Z1 on this host',
    );
    expect(() => planConverge({ ...fresh, vm: undefined }, wanted)).toThrow('VM "nas" was not found');
  });

  test("a disk dom0 uses, a host without the udev SR, or dom0 as the VM: refused, each with its code", () => {
    const refusal = (view: PlanView) => {
      try {
        planConverge(view, wanted);
      } catch (error) {
        return error;
      }
      throw new Error("not refused");
    };
    expect(refusal({ ...fresh, diskUse: "it is mounted in dom0 on /srv" })).toMatchObject({
      code: "DISK_IN_USE_BY_DOM0",
      message: expect.stringContaining("it is mounted in dom0 on /srv") as string,
    });
    expect(refusal({ ...fresh, disk: undefined, diskProblem: "serial S3Z1 names 2 disks" })).toMatchObject({
      code: "DISK_NOT_FOUND",
      message: "serial S3Z1 names 2 disks",
    });
    expect(refusal({ ...fresh, sr: undefined })).toMatchObject({ code: "NO_REMOVABLE_STORAGE_SR" });
    expect(
      refusal({ ...fresh, vm: { uuid: VM_UUID, powerState: "Running", isControlDomain: true, ...PV_GUEST } }),
    ).toMatchObject({ code: "VM_IS_CONTROL_DOMAIN" });
    for (const view of [
      { ...fresh, sr: undefined },
      { ...fresh, diskUse: "swap" },
    ])
      expect(refusal(view)).toBeInstanceOf(RefusedError);
  });
});

describe("guests and pools", () => {
  const refusal = (observation: PlanView, want = wanted) => {
    try {
      planConverge(observation, want);
    } catch (error) {
      return error;
    }
    throw new Error("not refused");
  };
  const hvm = (canHotplug: boolean) => ({ ...fresh.vm!, hvm: true, canHotplug });

  test('mode "RO" on an HVM guest is refused before any step, with the reason', () => {
    expect(refusal({ ...fresh, vm: hvm(true) }, inputs({ mode: "RO" }))).toMatchObject({
      code: "RO_DISK_ON_HVM_GUEST",
      message: expect.stringMatching(
        /HVM guest.*DISK_VBD_MUST_BE_READWRITE_FOR_HVM.*use mode "RW"/,
      ) as string,
    });
    expect(kinds({ ...fresh, vm: hvm(true) }, inputs({ mode: "RW" }))).toContain("plugVbd");
  });

  test("a running HVM guest without PV drivers: the VBD is created, never plugged", () => {
    expect(kinds({ ...fresh, vm: hvm(false) })).toEqual([
      "writeRule",
      "retrigger",
      "awaitLink",
      "ensureVdi",
      "createVbd",
    ]);
    // Converging again plans nothing: no retry of a plug XAPI would refuse.
    expect(kinds({ ...done, vm: hvm(false), vbd: { ...ourVbd, currentlyAttached: false } })).toEqual([
      "ensureVdi",
    ]);
    // Its plugged VBD cannot be unplugged to change its userdevice: refused before any change.
    expect(refusal({ ...done, vm: hvm(false) }, inputs({ userdevice: "5" }))).toMatchObject({
      code: "VM_CANNOT_HOTPLUG",
    });
  });

  test("a VM running on another host of the pool is refused, naming both hosts", () => {
    const elsewhere = { ...fresh.vm!, residentOnUuid: "other-uuid", residentOnName: "xcp2" };
    expect(refusal({ ...fresh, vm: elsewhere })).toMatchObject({
      code: "VM_ON_OTHER_HOST",
      message: expect.stringMatching(/"xcp2" \(other-uuid\).*"xcp1" \(host-uuid\)/) as string,
    });
    // Halted, it has no host: the VBD is made and XAPI starts it where the SR is.
    expect(kinds({ ...fresh, vm: { ...elsewhere, powerState: "Halted", residentOnUuid: "" } })).toContain(
      "createVbd",
    );
  });

  test("inside XAPI's GC window: a plugged VBD whose VDI is gone is waited out, an unplugged one destroyed", () => {
    const dead = { ...ourVbd, vdiUuid: "" };
    expect(
      planConverge({ ...done, vbd: dead }, wanted).attach.filter((step) => step.kind !== "ensureVdi"),
    ).toEqual([
      { kind: "awaitVbdCollected", vbdUuid: "vbd-1", timeoutSeconds: 90 },
      { kind: "createVbd", vmUuid: VM_UUID, mode: "RW", userdevice: "1", bootable: false },
      { kind: "plugVbd" },
    ]);
    expect(kinds({ ...done, vbd: { ...dead, currentlyAttached: false } })).toEqual([
      "ensureVdi",
      "destroyVbd",
      "createVbd",
      "plugVbd",
    ]);
  });

  test("setAffinity: true points the VM's affinity at the disk's host, once; never without it", () => {
    expect(kinds(done)).not.toContain("setVmAffinity");
    expect(kinds(done, inputs({ setAffinity: true }))).toEqual(["ensureVdi", "setVmAffinity"]);
    const pinned = { ...done, vm: { ...done.vm!, affinityUuid: "host-uuid" } };
    expect(kinds(pinned, inputs({ setAffinity: true }))).toEqual(["ensureVdi"]);
  });
});
