// planConverge: the plan (plan.ts) that takes the host from what was observed to what the inputs
// want. create, update and adopt all run it; running it again after a crash converges, because
// every part is planned only when the observation shows it is still needed.
import type { HostView, VbdFacts, VdiFacts } from "./host-view.js";
import type { PassthroughDiskInputs } from "./inputs.js";
import type { BootRepairChange, Dom0Change, Plan, XapiStep } from "./plan.js";
import { refuseUnsafe, type RefusalView, type Target } from "./refusals.js";
import { RefusedError } from "./errors.js";
import { recordNameOf } from "./boot-repair.js";
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

/** Plans the change; throws RefusedError (core/refusals.ts) when converging is unsafe or not ours to do. */
export function planConverge(observed: PlanView, inputs: PassthroughDiskInputs): Plan {
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
  const { release, attach } = vbdSteps(observed, inputs, vm, target.vdi?.uuid, {
    // Off the old VDI while it exists (the scan forgets it; XAPI then refuses an unplug), or off
    // another disk before anything else (a swap): one unplug, one plug, the same slot.
    releaseFirst: renaming || observed.vbdOtherDisk !== undefined,
  });
  const change = dom0Change(observed, inputs, {
    rule,
    location,
    kernelName: disk.kernelName,
    symlinkPresent: target.symlinkPresent,
  });
  // Opt-in only: the VM may be managed by another tool (observed.vmAffinityOnDiskHost reports it).
  const affinity: XapiStep[] =
    inputs.setAffinity && vm.affinityUuid !== observed.hostUuid ? [{ kind: "setVmAffinity" }] : [];
  return {
    release,
    dom0: change,
    attach: [{ kind: "ensureVdi", location }, ...attach, ...affinity],
    forget: undefined,
  };
}

/** dom0's part: claim, rule, others' rules set aside, re-evaluation and wait, boot repair. */
function dom0Change(
  observed: PlanView,
  inputs: PassthroughDiskInputs,
  wanted: {
    readonly rule: { readonly path: string; readonly text: string };
    readonly location: string;
    readonly kernelName: string;
    readonly symlinkPresent: boolean;
  },
): Dom0Change | undefined {
  const { rule, kernelName } = wanted;
  const ruleChanged = observed.ruleText !== rule.text;
  const claimed = observed.claimOwner === observed.owner;
  // The claim goes first, in the same udev round as the rule: dom0 decides between two claimants.
  const claim =
    !claimed && observed.claimKey !== undefined
      ? {
          key: observed.claimKey,
          owner: observed.owner,
          ...(observed.claimOwner === undefined || observed.previousOwner === undefined
            ? {}
            : { previous: observed.previousOwner }),
        }
      : undefined;
  const setAside = observed.otherRules.map((other) => other.path);
  const relink = ruleChanged || setAside.length > 0 || !wanted.symlinkPresent;
  // Hosts that do not resolve symlinks: without it, a reboot that renames disks breaks the VBD.
  const repair = observed.bootRepair;
  const bootRepair: BootRepairChange | undefined =
    repair.status === "missing" || repair.status === "outdated"
      ? {
          recordName: recordNameOf(repair.record.path),
          writeRecord: repair.record.text,
          ...(repair.hostCurrent ? {} : { installUnit: true }),
        }
      : undefined;
  const change: Dom0Change = {
    ...(claim === undefined ? {} : { claim }),
    ...(ruleChanged ? { writeRule: rule } : {}),
    ...(setAside.length === 0 ? {} : { setAsideRules: setAside }),
    ...(relink
      ? {
          retrigger: kernelName,
          awaitLink: { path: wanted.location, timeoutSeconds: inputs.symlinkTimeoutSeconds, kernelName },
        }
      : {}),
    ...(bootRepair === undefined ? {} : { bootRepair }),
  };
  return Object.keys(change).length === 0 ? undefined : change;
}

/** The VBD steps: `release` gets a VBD to replace out of the way first (releaseFirst), `attach` the others. */
function vbdSteps(
  observed: PlanView,
  inputs: PassthroughDiskInputs,
  vm: Target["vm"],
  targetVdiUuid: string | undefined,
  options: { readonly releaseFirst: boolean },
): { release: XapiStep[]; attach: XapiStep[] } {
  const running = vm.powerState === "Running";
  const adoptable = observed.vbd === undefined ? observed.otherVbds[0] : undefined;
  // Our VBD under an earlier owner id (renamed, or an earlier version's): re-tagged to ours.
  const retag =
    adoptable ??
    (observed.vbd !== undefined && observed.vbd.ownerKey !== observed.owner ? observed.vbd : undefined);
  const adopt: XapiStep[] = retag === undefined ? [] : [{ kind: "adoptVbd", vbdUuid: retag.uuid }];
  const current = observed.vbd ?? adoptable;

  const reusable =
    current !== undefined &&
    current.vmUuid === vm.uuid &&
    current.vdiUuid === targetVdiUuid &&
    current.mode === inputs.mode &&
    (inputs.userdevice === "autodetect" || current.userdevice === inputs.userdevice);
  const removal = current !== undefined && !reusable ? removeVbdSteps(current, vm, inputs) : [];
  // Released first, with its adopt (re-tag) step: a failure after it leaves a VBD of ours.
  const early = removal.length > 0 && options.releaseFirst && current?.vdiUuid !== "";
  const release = early ? [...adopt, ...removal] : [];
  const steps: XapiStep[] = early ? [] : [...adopt, ...removal];
  const attached = removal.length === 0 && (current?.currentlyAttached ?? false);
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
  return { release, attach: steps };
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
function removeVbdSteps(current: VbdView, vm: Target["vm"], inputs: PassthroughDiskInputs): XapiStep[] {
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
