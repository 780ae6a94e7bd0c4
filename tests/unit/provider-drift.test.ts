// Drift read from the converge plan: refresh reports exactly what the next `up` would change, and
// notes for what it cannot change.
import { planConverge } from "#provider/core/converge-plan.js";
import { notesOf, repairsOf, repairsVbd, type DriftView } from "#provider/core/drift.js";
import type { PassthroughDiskInputs } from "#provider/core/inputs.js";
import { renderRule } from "#provider/core/rule.js";
import type { ObservedState } from "#provider/core/state.js";
import { complete, dom0Disk, inputs, kindsOf, ourVbd, OWNER, state } from "./provider-plan-fixture.js";

const wanted = inputs();
const rule = renderRule(wanted.disk, OWNER);
const done = complete;

/** Views and what refresh says of each: the next `up`'s plan in words. */
const cases: readonly (readonly [string, DriftView, ReturnType<typeof inputs>, readonly string[]])[] = [
  ["in sync", done, wanted, []],
  ["rule deleted", { ...done, ruleText: undefined }, wanted, ["the udev rule file was deleted"]],
  ["rule edited", { ...done, ruleText: `${rule.text}# edited\n` }, wanted, ["the udev rule file was edited"]],
  ["symlink gone", { ...done, symlinkPresent: false }, wanted, ["the /dev/xapi/block symlink is gone"]],
  [
    "VDI gone",
    { ...done, vdi: undefined },
    wanted,
    ["the udev SR has no VDI for the disk", "the VBD refers to a VDI that is gone"],
  ],
  ["VBD destroyed", { ...done, vbd: undefined }, wanted, ["the VBD was destroyed"]],
  [
    "VBD unplugged",
    { ...done, vbd: { ...ourVbd, currentlyAttached: false } },
    wanted,
    ["the VBD was unplugged"],
  ],
  ["VBD mode", { ...done, vbd: { ...ourVbd, mode: "RO" } }, wanted, ["the VBD has mode RO (wanted RW)"]],
  [
    "VBD bootable",
    { ...done, vbd: { ...ourVbd, bootable: true } },
    wanted,
    ["the VBD has bootable true (wanted false)"],
  ],
  ["plugged, attach false", done, inputs({ attach: false }), ["the VBD is plugged but attach is false"]],
  [
    "affinity",
    done,
    inputs({ setAffinity: true }),
    ["the VM's affinity is not the disk's host (setAffinity: true)"],
  ],
  [
    "claim missing",
    { ...done, claimOwner: undefined },
    wanted,
    ["dom0 holds no claim of this resource on the disk"],
  ],
  [
    "claim under an earlier owner id",
    { ...done, claimOwner: "old-id", previousOwner: "old-id" },
    wanted,
    ["the disk's claim names an earlier owner id of this resource: an update re-points it"],
  ],
  [
    "boot repair missing",
    { ...done, bootRepair: { ...done.bootRepair, status: "missing" } },
    wanted,
    [
      expect.stringMatching(
        /^the boot repair \(xen-passthrough-boot-repair.service\) is missing on this host/,
      ) as never,
    ],
  ],
  [
    "boot repair outdated",
    { ...done, bootRepair: { ...done.bootRepair, status: "outdated" } },
    wanted,
    ["the boot repair (xen-passthrough-boot-repair.service) on this host is outdated"],
  ],
  [
    "disk back as sdc, the VBD on the stale VDI",
    {
      ...done,
      disk: dom0Disk("sdc", "S3Z1"),
      vdi: { uuid: "vdi-2" },
      vbd: { ...ourVbd, currentlyAttached: false },
    },
    wanted,
    ["the disk came back as sdc (it was sdb)", "the VBD refers to a VDI that is gone"],
  ],
  [
    "disk back as sdc, the VBD already moved by the boot repair: a fact, not drift",
    { ...done, disk: dom0Disk("sdc", "S3Z1"), vdi: { uuid: "vdi-2" }, vbd: { ...ourVbd, vdiUuid: "vdi-2" } },
    wanted,
    [],
  ],
  [
    "two disks swapped kernel names",
    { ...done, vdi: { uuid: "vdi-2" }, vbdOtherDisk: dom0Disk("sdc", "ZS4B") },
    wanted,
    ["the VBD points at disk serial ZS4B now; expected serial S3Z1"],
  ],
  [
    "a kernel-named symlink on a host that resolves symlinks",
    { ...done, wantedNaming: "stable", smVersion: "3.2.3" },
    wanted,
    [
      "the symlink is named after the kernel name (sdb): this host resolves symlinks (sm 3.2.3), so an update renames it xp-serial-S3Z1, which survives reboots",
    ],
  ],
  [
    "the disk is gone: the next up is refused, and says why",
    { ...done, disk: undefined },
    wanted,
    ["the disk is not present on the host"],
  ],
  [
    "the VM is gone: the next up is refused, and says why",
    { ...done, vm: undefined },
    wanted,
    ["the VM was not found"],
  ],
  [
    "a disk dom0 uses: the refusal's reason",
    { ...done, diskUse: "it is mounted in dom0 on /srv" },
    wanted,
    [expect.stringMatching(/it is mounted in dom0 on \/srv/) as never],
  ],
  [
    "the VM runs on another host: a note says it, nothing is planned",
    { ...done, vm: { ...done.vm!, residentOnUuid: "other-uuid", residentOnName: "xcp2" } },
    wanted,
    [],
  ],
  [
    "the VM halted: nothing to change",
    { ...done, vm: { ...done.vm!, powerState: "Halted" }, vbd: { ...ourVbd, currentlyAttached: false } },
    wanted,
    [],
  ],
];

describe("repairsOf", () => {
  test.each(cases)("%s", (_what, view, want, said) => {
    expect(repairsOf(view, want, "sdb")).toEqual(said);
  });

  /** Whether up would plan at all (not refused). */
  const plans = (view: DriftView, want: PassthroughDiskInputs) => {
    try {
      planConverge(view, want);
      return true;
    } catch {
      return false;
    }
  };

  test.each(cases.filter(([, view, want]) => plans(view, want)))(
    "%s: drift is empty exactly when the next up changes nothing",
    (_what, view, want) => {
      const nothingToDo = kindsOf(planConverge(view, want)).join() === "ensureVdi";
      expect(repairsOf(view, want, "sdb").length === 0).toBe(nothingToDo);
    },
  );

  test("the rename the boot repair already followed is recorded, not repaired", () => {
    const moved = {
      ...done,
      disk: dom0Disk("sdc", "S3Z1"),
      vdi: { uuid: "vdi-2" },
      vbd: { ...ourVbd, vdiUuid: "vdi-2" },
    };
    expect(repairsVbd(moved, wanted)).toBe(false);
    expect(repairsVbd({ ...moved, vbd: { ...ourVbd, currentlyAttached: false } }, wanted)).toBe(true);
  });
});

describe("notesOf", () => {
  const observed = (extra: Partial<ObservedState>): ObservedState => ({
    ...(state(wanted)["observed"] as ObservedState),
    ...extra,
  });

  test("nothing when in sync", () => {
    expect(notesOf(observed({}), wanted)).toEqual([]);
  });

  test("what no up can change: a VM halted, without PV drivers, on another host", () => {
    expect(notesOf(observed({ vmPowerState: "Halted", vbdAttached: false }), wanted)).toEqual([
      "the VM is Halted: the disk is plugged when the VM runs",
    ]);
    // A VM that is gone is no note: the next up is refused (repairsOf says why).
    expect(notesOf(observed({ vmPresent: false, vmPowerState: "" }), wanted)).toEqual([]);
    expect(notesOf(observed({ vbdAttached: false, vmCanHotplug: false }), wanted)).toEqual([
      "the VBD is not plugged: the VM runs without PV drivers, so the disk attaches when the VM next starts (or its drivers appear)",
    ]);
    expect(notesOf(observed({ vmOnDiskHost: false, vmResidentOn: "h2" }), wanted)).toEqual([
      "the VM runs on another host of the pool (h2): it cannot use the disk there",
    ]);
    // A halted VM with attach: false is as wanted.
    expect(
      notesOf(observed({ vmPowerState: "Halted", vbdAttached: false }), inputs({ attach: false })),
    ).toEqual([]);
  });
});
