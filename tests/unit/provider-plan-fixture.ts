// Shared fixtures of the plan tests: checked inputs and a state in sync with them.
import { checkInputs } from "#provider/core/check.js";
import { bootRepairFacts, NO_BOOT_REPAIR } from "#provider/core/boot-repair.js";
import type { VbdView } from "#provider/core/converge-plan.js";
import type { DriftView } from "#provider/core/drift.js";
import type { PassthroughDiskInputs } from "#provider/core/inputs.js";
import type { Plan } from "#provider/core/plan.js";
import { renderRule } from "#provider/core/rule.js";
import type { ObservedState, VmPowerState } from "#provider/core/state.js";

export const VM_UUID = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";

/** Checked inputs (defaults applied), with overrides. */
export function inputs(overrides: Record<string, unknown> = {}): PassthroughDiskInputs {
  const { inputs: checked, failures } = checkInputs(
    {},
    {
      connection: { host: "xen1.lan", password: "old-password" },
      disk: { serial: "S3Z1" },
      vm: { nameLabel: "nas" },
      ...overrides,
    },
  );
  if (failures.length > 0) throw new Error(`fixture inputs fail check: ${JSON.stringify(failures)}`);
  return checked as unknown as PassthroughDiskInputs;
}

/**
 * The state create leaves behind for these inputs; `observed` overrides simulate what read saw,
 * `drift` what it recorded (core/drift.ts reads it from the plan of the view).
 */
export function state(
  of: PassthroughDiskInputs,
  observed: Partial<ObservedState> = {},
  drift: readonly string[] = [],
): Record<string, unknown> {
  const rule = renderRule(of.disk);
  return {
    ...of,
    hostUuid: "host-uuid",
    vmUuid: VM_UUID,
    vdiUuid: "vdi-uuid",
    vbdUuid: "vbd-uuid",
    device: "xvdb",
    kernelName: "sdb",
    symlinkPath: "/dev/xapi/block/sdb",
    rulePath: rule.path,
    ruleText: rule.text,
    currentlyAttached: true,
    sizeBytes: 1024,
    observed: {
      ...inSyncObservation(of, {
        kernelName: "sdb",
        attached: of.attach,
        vmPowerState: "Running",
        userdevice: "1",
      }),
      ...observed,
    },
    drift,
  };
}

/** What "everything as wanted" looks like, e.g. for the state right after a complete create. */
function inSyncObservation(
  inputs: PassthroughDiskInputs,
  made: {
    readonly kernelName: string;
    readonly attached: boolean;
    readonly vmPowerState: VmPowerState;
    readonly userdevice: string;
  },
): ObservedState {
  return {
    ruleStatus: "ok",
    diskPresent: true,
    kernelName: made.kernelName,
    symlinkPresent: true,
    vdiPresent: true,
    vbdPresent: true,
    vbdOnCurrentVdi: true,
    vbdAttached: made.attached,
    vbdMode: inputs.mode,
    vbdUserdevice: made.userdevice,
    vbdBootable: inputs.bootable,
    vmPresent: true,
    vmPowerState: made.vmPowerState,
  };
}

/**
 * A plan in one line, part by part: the release's XAPI step kinds, the dom0 change's fields, the
 * attach's step kinds, then the forget. For tests that check what is planned and in which order.
 */
export function kindsOf(plan: Plan): string[] {
  return [
    ...plan.release.map((step) => step.kind),
    ...(plan.dom0 === undefined ? [] : Object.keys(plan.dom0)),
    ...plan.attach.map((step) => step.kind),
    ...(plan.forget === undefined ? [] : [`forget:${plan.forget.kind}`]),
  ];
}

export const OWNER = "homelab/dev/nas-data";
/** A disk as dom0 reports it. */
export const dom0Disk = (kernelName: string, serial: string) => ({
  kernelName,
  devNumber: "8:16",
  sizeBytes: 1,
  partitions: [],
  holders: [],
  properties: { ID_SERIAL: serial, ID_SERIAL_SHORT: serial },
  links: [],
});
/** Our VBD, plugged, on the VDI of the complete view. */
export const ourVbd: VbdView = {
  uuid: "vbd-1",
  vmUuid: VM_UUID,
  vdiUuid: "vdi-1",
  mode: "RW",
  userdevice: "1",
  bootable: false,
  currentlyAttached: true,
  ownerKey: OWNER,
};

/** A complete passthrough, kernel-named, on a host that keeps kernel names (its boot repair current). */
export const complete: DriftView = {
  disk: dom0Disk("sdb", "S3Z1"),
  ruleText: renderRule(inputs().disk, OWNER).text,
  otherRules: [],
  symlinkPresent: true,
  hostUuid: "host-uuid",
  hostName: "xcp1",
  diskProblem: undefined,
  diskUse: undefined,
  sr: { ref: "OpaqueRef:sr" },
  vdi: { uuid: "vdi-1" },
  vm: {
    uuid: VM_UUID,
    powerState: "Running",
    isControlDomain: false,
    hvm: false,
    canHotplug: true,
    residentOnUuid: "host-uuid",
    residentOnName: "xcp1",
    affinityUuid: "",
  },
  vbd: ourVbd,
  otherVbds: [],
  misplacedVbds: [],
  vbdOtherDisk: undefined,
  wantedNaming: "kernelName",
  symlinkNaming: "kernelName",
  owner: OWNER,
  previousOwner: undefined,
  claimKey: "serial-S3Z1",
  claimOwner: OWNER,
  foreignOwner: undefined,
  smVersion: "2.30.8",
  bootRepair: {
    ...bootRepairFacts(NO_BOOT_REPAIR, {
      needed: true,
      marker: "m",
      identity: inputs().disk,
      tag: "t",
      owner: OWNER,
    }),
    status: "ok",
  },
};
