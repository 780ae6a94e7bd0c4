// planConverge: the ordered steps that take the host from what was observed to what the inputs
// want. create, update and adopt all run it; running it again after a crash converges, because
// every step is planned only when the observation shows it is still needed.
import { RefusedError } from "./errors.js";
import { describeDisk, describeVm } from "./identity.js";
import type { PassthroughDiskInputs, VbdMode } from "./inputs.js";
import { renderRule, symlinkPath, type ConflictingRule } from "./rule.js";
import type { VmPowerState } from "./state.js";

/** A VBD as observed (XAPI field values). */
export interface VbdObservation {
  readonly uuid: string;
  readonly vmUuid: string;
  readonly vdiUuid: string;
  readonly mode: VbdMode;
  readonly userdevice: string;
  readonly bootable: boolean;
  readonly currentlyAttached: boolean;
}

/** Everything planConverge needs to know about the host, gathered by the lifecycle. */
export interface Observation {
  /** The disk, resolved by its identity (undefined: not found; the lifecycle says why). */
  readonly disk: { readonly kernelName: string } | undefined;
  /** Content of our rule file (undefined: no file). */
  readonly ruleText: string | undefined;
  /** Rules of others that give the same disk a xapi/block symlink (see conflictingRules). */
  readonly otherRules: readonly ConflictingRule[];
  /** /dev/xapi/block/<kernelName> exists. */
  readonly symlinkPresent: boolean;
  /** UUID of the VDI whose location is that symlink (undefined: none). */
  readonly vdiUuid: string | undefined;
  /** The VM (undefined: not found). */
  readonly vm: { readonly uuid: string; readonly powerState: VmPowerState } | undefined;
  /** Our VBD, found by its other_config tag. */
  readonly vbd: VbdObservation | undefined;
  /** VBDs of the disk's VDI that are not ours (hand-made, or another tool's). */
  readonly otherVbds: readonly VbdObservation[];
}

/**
 * One step. The executor keeps "the VDI" and "the VBD" as it goes: ensureVdi sets the VDI,
 * adoptVbd/createVbd set the VBD, destroyVbd clears it; later steps act on them.
 */
export type Step =
  | { readonly kind: "writeRule"; readonly path: string; readonly text: string }
  | { readonly kind: "removeRule"; readonly path: string }
  | { readonly kind: "reloadAndTrigger"; readonly kernelName: string }
  | { readonly kind: "waitSymlink"; readonly path: string; readonly timeoutSeconds: number }
  | { readonly kind: "ensureVdi"; readonly location: string }
  | { readonly kind: "adoptVbd"; readonly vbdUuid: string }
  | { readonly kind: "unplugVbd" }
  | { readonly kind: "destroyVbd" }
  | {
      readonly kind: "createVbd";
      readonly vmUuid: string;
      readonly mode: VbdMode;
      readonly userdevice: string;
      readonly bootable: boolean;
    }
  | { readonly kind: "setVbdBootable"; readonly bootable: boolean }
  | { readonly kind: "plugVbd" };

/** The kinds of steps, for executors that dispatch on them. */
export type StepKind = Step["kind"];

/** Plans the steps; throws RefusedError when converging would take something that is not ours. */
export function planConverge(observed: Observation, inputs: PassthroughDiskInputs): Step[] {
  const disk = observed.disk;
  if (disk === undefined)
    throw new RefusedError(
      "DISK_NOT_FOUND",
      { disk: describeDisk(inputs.disk) },
      `no disk with ${describeDisk(inputs.disk)} on the host`,
    );
  const vm = observed.vm;
  if (vm === undefined)
    throw new RefusedError(
      "VM_NOT_FOUND",
      { vm: describeVm(inputs.vm) },
      `${describeVm(inputs.vm)} was not found`,
    );
  refuseOthers(observed, inputs, vm.uuid);

  const steps: Step[] = [];
  const rule = renderRule(inputs.disk);
  const location = symlinkPath(disk.kernelName);
  const ruleChanged = observed.ruleText !== rule.text;
  if (ruleChanged) steps.push({ kind: "writeRule", path: rule.path, text: rule.text });
  for (const other of observed.otherRules) steps.push({ kind: "removeRule", path: other.path });
  if (ruleChanged || observed.otherRules.length > 0 || !observed.symlinkPresent) {
    steps.push({ kind: "reloadAndTrigger", kernelName: disk.kernelName });
    steps.push({ kind: "waitSymlink", path: location, timeoutSeconds: inputs.symlinkTimeoutSeconds });
  }
  steps.push({ kind: "ensureVdi", location });
  steps.push(...vbdSteps(observed, inputs, vm));
  return steps;
}

/** Rules and VBDs of others for this disk: taken over with adopt, refused otherwise. */
function refuseOthers(observed: Observation, inputs: PassthroughDiskInputs, vmUuid: string): void {
  const disk = describeDisk(inputs.disk);
  for (const rule of observed.otherRules) {
    if (rule.writtenBy === "xen-passthrough") {
      throw new RefusedError(
        "DISK_MANAGED_ELSEWHERE",
        { disk, rule: rule.path },
        `${disk} is already passed through by another PassthroughDisk (${rule.path}, ${rule.evidence}): a disk can belong to one resource only`,
      );
    }
    if (!inputs.adopt) {
      throw new RefusedError(
        "DISK_IN_OTHER_RULE",
        { disk, rule: rule.path },
        `${disk} is already passed through by ${rule.path} (${rule.evidence}): set adopt: true to take it over, or remove that rule`,
      );
    }
  }
  for (const vbd of observed.otherVbds) {
    if (vbd.vmUuid !== vmUuid) {
      throw new RefusedError(
        "DISK_ATTACHED_ELSEWHERE",
        { disk, vbd: vbd.uuid, vm: vbd.vmUuid },
        `${disk} is attached to another VM (${vbd.vmUuid}, VBD ${vbd.uuid}): detach it there first`,
      );
    }
    if (!inputs.adopt) {
      throw new RefusedError(
        "DISK_HAS_UNMANAGED_VBD",
        { disk, vbd: vbd.uuid },
        `${disk} already has a VBD on this VM that Pulumi does not manage (${vbd.uuid}): set adopt: true to take it over`,
      );
    }
  }
}

function vbdSteps(
  observed: Observation,
  inputs: PassthroughDiskInputs,
  vm: { uuid: string; powerState: VmPowerState },
): Step[] {
  const steps: Step[] = [];
  const running = vm.powerState === "Running";
  const adoptable = observed.vbd === undefined ? observed.otherVbds[0] : undefined;
  if (adoptable !== undefined) steps.push({ kind: "adoptVbd", vbdUuid: adoptable.uuid });
  const current = observed.vbd ?? adoptable;

  const reusable =
    current !== undefined &&
    current.vmUuid === vm.uuid &&
    current.vdiUuid === observed.vdiUuid &&
    current.mode === inputs.mode &&
    (inputs.userdevice === "autodetect" || current.userdevice === inputs.userdevice);
  let attached = current?.currentlyAttached ?? false;
  if (current !== undefined && !reusable) {
    // Mode and userdevice cannot change on a plugged VBD: re-create it (unplugging first).
    if (attached) steps.push({ kind: "unplugVbd" });
    steps.push({ kind: "destroyVbd" });
    attached = false;
  }
  if (!reusable) {
    steps.push({
      kind: "createVbd",
      vmUuid: vm.uuid,
      mode: inputs.mode,
      userdevice: inputs.userdevice,
      bootable: inputs.bootable,
    });
  } else if (current.bootable !== inputs.bootable) {
    steps.push({ kind: "setVbdBootable", bootable: inputs.bootable });
  }
  if (inputs.attach && running && !attached) steps.push({ kind: "plugVbd" });
  if (!inputs.attach && attached) steps.push({ kind: "unplugVbd" });
  return steps;
}
