// planConverge: the ordered steps that take the host from what was observed to what the inputs
// want. create, update and adopt all run it; running it again after a crash converges, because
// every step is planned only when the observation shows it is still needed.
import type { HostView, VbdFacts, VdiFacts } from "./host-view.js";
import type { PassthroughDiskInputs, VbdMode } from "./inputs.js";
import { refuseUnsafe, type RefusalView, type Target } from "./refusals.js";
import { RefusedError } from "./errors.js";
import { describeVm } from "./identity.js";
import { renderRule, symlinkName, symlinkPath } from "./rule.js";

/**
 * How long to wait for XAPI's database GC to drop a plugged VBD whose VDI is gone: three of its
 * 30 s periods (xen-api `db_gc.ml`, `db_GC_TIMER`), so one late pass is not a failure.
 */
export const VBD_GC_WAIT_SECONDS = 90;

/** A VBD as the planner reads it. */
export type VbdView = Pick<
  VbdFacts,
  "uuid" | "vmUuid" | "vdiUuid" | "mode" | "userdevice" | "bootable" | "currentlyAttached" | "ownerKey"
>;

/** The part of the host's view (core/host-view.ts) that planning reads. */
export type PlanView = RefusalView &
  Pick<
    HostView,
    | "ruleText"
    | "symlinkPresent"
    | "owner"
    | "previousOwner"
    | "claimKey"
    | "claimOwner"
    | "wantedNaming"
    | "symlinkNaming"
    | "bootRepair"
  > & {
    readonly vdi: Pick<VdiFacts, "uuid"> | undefined;
    readonly vbd: VbdView | undefined;
    readonly otherVbds: readonly VbdView[];
    /** Another resource's VBDs on our disk (a swap): never ours to touch; our plug waits for them. */
    readonly misplacedVbds: readonly VbdView[];
    /** Our VBD's VDI is on another disk now (two disks swapped kernel names). */
    readonly vbdOtherDisk: unknown;
  };

/**
 * How long our plug waits for another resource's VBD to leave our disk (its own repair unplugs it,
 * in the same `pulumi up`): our choice, the time a few VBD.unplug calls take (sm PR #285: < 2 s each).
 */
export const MISPLACED_VBD_WAIT_SECONDS = 60;

/** Steps on dom0: they go out together as one request of the host's udev round. */
export type Dom0Step =
  | {
      readonly kind: "claim";
      readonly key: string;
      readonly owner: string;
      readonly previous: string | undefined;
    }
  | { readonly kind: "writeRule"; readonly path: string; readonly text: string }
  | { readonly kind: "removeRule"; readonly path: string }
  | { readonly kind: "reloadAndTrigger"; readonly kernelName: string }
  | {
      readonly kind: "waitSymlink";
      readonly path: string;
      readonly timeoutSeconds: number;
      /** The disk the symlink resolves to. */
      readonly kernelName: string;
    }
  /** The boot repair's record of this passthrough, and its unit and script when they are not current. */
  | {
      readonly kind: "installBootRepair";
      readonly record: { readonly path: string; readonly text: string };
      readonly unitAndScript: boolean;
    };

/**
 * Steps in XAPI, run in order after the dom0 steps. What each one needs and yields is typed in
 * lifecycle/xapi-steps.ts: ensureVdi yields the VDI; adoptVbd and createVbd yield the VBD,
 * destroyVbd drops it; the others act on it.
 */
export type XapiStep =
  | { readonly kind: "ensureVdi"; readonly location: string }
  | { readonly kind: "adoptVbd"; readonly vbdUuid: string }
  | { readonly kind: "unplugVbd" }
  | { readonly kind: "destroyVbd" }
  | { readonly kind: "awaitVbdCollected"; readonly vbdUuid: string; readonly timeoutSeconds: number }
  | {
      readonly kind: "awaitVbdsDetached";
      readonly vbdUuids: readonly string[];
      readonly timeoutSeconds: number;
    }
  | {
      readonly kind: "createVbd";
      readonly vmUuid: string;
      readonly mode: VbdMode;
      readonly userdevice: string;
      readonly bootable: boolean;
    }
  | { readonly kind: "setVbdBootable"; readonly bootable: boolean }
  | { readonly kind: "plugVbd" }
  | { readonly kind: "setVmAffinity" };

/**
 * One step. A plan is: XAPI steps that get our VBD off a disk that is not (or will not stay)
 * ours, then every dom0 step, then the other XAPI steps.
 */
export type Step = Dom0Step | XapiStep;

const DOM0_KINDS: ReadonlySet<Step["kind"]> = new Set([
  "claim",
  "writeRule",
  "removeRule",
  "reloadAndTrigger",
  "waitSymlink",
  "installBootRepair",
]);

export function isDom0Step(step: Step): step is Dom0Step {
  return DOM0_KINDS.has(step.kind);
}

/** Plans the steps; throws RefusedError (core/refusals.ts) when converging is unsafe or not ours to do. */
export function planConverge(observed: PlanView, inputs: PassthroughDiskInputs): Step[] {
  const { disk, vm } = refuseUnsafe(observed, inputs);
  const naming = observed.wantedNaming;
  const rule = renderRule(inputs.disk, observed.owner, naming);
  const location = symlinkPath(symlinkName(inputs.disk, disk.kernelName, naming));
  // A kernel-named passthrough on a host that resolves symlinks moves to the stable name: the old
  // location (and its VDI) goes, so nothing observed at it is kept.
  const renaming = observed.symlinkNaming !== naming;
  const target: Pick<PlanView, "vdi" | "symlinkPresent"> = renaming
    ? { vdi: undefined, symlinkPresent: false }
    : observed;
  const ruleChanged = observed.ruleText !== rule.text;
  const claimed = observed.claimOwner === observed.owner;
  const { release, rest } = vbdSteps(observed, inputs, vm, target.vdi?.uuid, {
    // Off the old VDI while it exists (the scan forgets it; XAPI then refuses an unplug), or off
    // another disk before anything else (a swap): one unplug, one plug, the same slot.
    releaseFirst: renaming || observed.vbdOtherDisk !== undefined,
  });
  const steps: Step[] = [...release];
  // The claim goes first, in the same udev round as the rule: dom0 decides between two claimants.
  if (!claimed && observed.claimKey !== undefined) {
    const previous = observed.claimOwner === undefined ? undefined : observed.previousOwner;
    steps.push({ kind: "claim", key: observed.claimKey, owner: observed.owner, previous });
  }
  if (ruleChanged) steps.push({ kind: "writeRule", path: rule.path, text: rule.text });
  for (const other of observed.otherRules) steps.push({ kind: "removeRule", path: other.path });
  if (ruleChanged || observed.otherRules.length > 0 || !target.symlinkPresent) {
    steps.push({ kind: "reloadAndTrigger", kernelName: disk.kernelName });
    steps.push({
      kind: "waitSymlink",
      path: location,
      timeoutSeconds: inputs.symlinkTimeoutSeconds,
      kernelName: disk.kernelName,
    });
  }
  // Hosts that do not resolve symlinks: without it, a reboot that renames disks breaks the VBD.
  const repair = observed.bootRepair;
  if (repair.status === "missing" || repair.status === "outdated")
    steps.push({ kind: "installBootRepair", record: repair.record, unitAndScript: !repair.hostCurrent });
  steps.push({ kind: "ensureVdi", location });
  steps.push(...rest);
  // Opt-in only: the VM may be managed by another tool (observed.vmAffinityOnDiskHost reports it).
  if (inputs.setAffinity && vm.affinityUuid !== observed.hostUuid) steps.push({ kind: "setVmAffinity" });
  return steps;
}

/** The VBD steps: `release` gets a VBD to replace out of the way first (releaseFirst), `rest` the others. */
function vbdSteps(
  observed: PlanView,
  inputs: PassthroughDiskInputs,
  vm: Target["vm"],
  targetVdiUuid: string | undefined,
  options: { readonly releaseFirst: boolean },
): { release: Step[]; rest: Step[] } {
  const steps: Step[] = [];
  const release: Step[] = [];
  const running = vm.powerState === "Running";
  const adoptable = observed.vbd === undefined ? observed.otherVbds[0] : undefined;
  if (adoptable !== undefined) steps.push({ kind: "adoptVbd", vbdUuid: adoptable.uuid });
  // Our VBD under an earlier owner id (renamed, or an earlier version's): re-tagged to ours.
  else if (observed.vbd !== undefined && observed.vbd.ownerKey !== observed.owner)
    steps.push({ kind: "adoptVbd", vbdUuid: observed.vbd.uuid });
  const current = observed.vbd ?? adoptable;

  const reusable =
    current !== undefined &&
    current.vmUuid === vm.uuid &&
    current.vdiUuid === targetVdiUuid &&
    current.mode === inputs.mode &&
    (inputs.userdevice === "autodetect" || current.userdevice === inputs.userdevice);
  let attached = current?.currentlyAttached ?? false;
  if (current !== undefined && !reusable) {
    const removal = removeVbdSteps(current, vm, inputs);
    // Released first, with its adopt (re-tag) step: a failure after it leaves a VBD of ours.
    const early = options.releaseFirst && current.vdiUuid !== "";
    if (early) release.push(...steps.splice(0, steps.length), ...removal);
    else steps.push(...removal);
    attached = false;
  }
  if (!reusable) {
    // A replaced VBD of ours keeps its slot (userdevice) unless the inputs name another.
    const sameVm = current !== undefined && current.vmUuid === vm.uuid;
    steps.push({
      kind: "createVbd",
      vmUuid: vm.uuid,
      mode: inputs.mode,
      userdevice: inputs.userdevice === "autodetect" && sameVm ? current.userdevice : inputs.userdevice,
      bootable: inputs.bootable,
    });
  } else if (current.bootable !== inputs.bootable) {
    steps.push({ kind: "setVbdBootable", bootable: inputs.bootable });
  }
  // A running HVM guest without PV drivers cannot take a disk now: XAPI plugs it when the VM
  // next starts; the next converge plugs it once the drivers appear (outputs say so).
  if (inputs.attach && running && !attached && vm.canHotplug) {
    // Never two VMs on one disk: another resource's VBD left on ours by a swap goes first.
    const misplaced = observed.misplacedVbds.filter((vbd) => vbd.currentlyAttached).map((vbd) => vbd.uuid);
    if (misplaced.length > 0)
      steps.push({
        kind: "awaitVbdsDetached",
        vbdUuids: misplaced,
        timeoutSeconds: MISPLACED_VBD_WAIT_SECONDS,
      });
    steps.push({ kind: "plugVbd" });
  }
  if (!inputs.attach && attached) {
    refuseWithoutHotplug(vm, inputs, "unplug the disk (attach: false)");
    steps.push({ kind: "unplugVbd" });
  }
  return { release, rest: steps };
}

/**
 * Gets the VBD out of the way before a new one is made. Mode and userdevice cannot change on a
 * plugged VBD, so it is unplugged and destroyed. Inside XAPI's GC window (its VDI is gone, the
 * uuid reads ""), XAPI refuses both unplug and unplug_force (HANDLE_INVALID: xen-api
 * `xapi_vbd_helpers.ml` valid_operations reads the VDI) and destroy while it is plugged
 * (`xapi_vbd_helpers.ml` destroy): an unplugged one is destroyed, a plugged one is left to the
 * GC, which drops it whatever it says (`db_gc_util.ml` gc_VBDs), and waited for, so the new VBD
 * can take the same userdevice.
 */
function removeVbdSteps(current: VbdView, vm: Target["vm"], inputs: PassthroughDiskInputs): Step[] {
  const vdiGone = current.vdiUuid === "";
  if (vdiGone && current.currentlyAttached) {
    return [{ kind: "awaitVbdCollected", vbdUuid: current.uuid, timeoutSeconds: VBD_GC_WAIT_SECONDS }];
  }
  if (!current.currentlyAttached) return [{ kind: "destroyVbd" }];
  refuseWithoutHotplug(vm, inputs, "re-create the VBD (its mode, userdevice or VDI changed)");
  return [{ kind: "unplugVbd" }, { kind: "destroyVbd" }];
}

/** XAPI refuses VBD.unplug on a running HVM guest without PV drivers (VM_MISSING_PV_DRIVERS). */
function refuseWithoutHotplug(vm: Target["vm"], inputs: PassthroughDiskInputs, what: string): void {
  if (vm.canHotplug) return;
  const name = describeVm(inputs.vm);
  throw new RefusedError(
    "VM_CANNOT_HOTPLUG",
    { vm: name },
    `${name} runs without PV drivers, so XAPI cannot unplug its disks (VM_MISSING_PV_DRIVERS): ` +
      `to ${what}, shut the VM down or install its guest tools, then run this again`,
  );
}
