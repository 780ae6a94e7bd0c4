// planConverge: the ordered steps that take the host from what was observed to what the inputs
// want. create, update and adopt all run it; running it again after a crash converges, because
// every step is planned only when the observation shows it is still needed.
import type { HostView, VbdFacts, VdiFacts } from "./host-view.js";
import type { PassthroughDiskInputs, VbdMode } from "./inputs.js";
import { refuseUnsafe, type RefusalView, type Target } from "./refusals.js";
import { renderRule, symlinkPath } from "./rule.js";

/** A VBD as the planner reads it. */
export type VbdView = Pick<
  VbdFacts,
  "uuid" | "vmUuid" | "vdiUuid" | "mode" | "userdevice" | "bootable" | "currentlyAttached" | "ownerKey"
>;

/** The part of the host's view (core/host-view.ts) that planning reads. */
export type PlanView = RefusalView &
  Pick<HostView, "ruleText" | "symlinkPresent" | "owner" | "previousOwner" | "claimKey" | "claimOwner"> & {
    readonly vdi: Pick<VdiFacts, "uuid"> | undefined;
    readonly vbd: VbdView | undefined;
    readonly otherVbds: readonly VbdView[];
  };

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
  | { readonly kind: "waitSymlink"; readonly path: string; readonly timeoutSeconds: number };

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
  | {
      readonly kind: "createVbd";
      readonly vmUuid: string;
      readonly mode: VbdMode;
      readonly userdevice: string;
      readonly bootable: boolean;
    }
  | { readonly kind: "setVbdBootable"; readonly bootable: boolean }
  | { readonly kind: "plugVbd" };

/** One step; a plan lists every dom0 step before the first XAPI step. */
export type Step = Dom0Step | XapiStep;

const DOM0_KINDS: ReadonlySet<Step["kind"]> = new Set([
  "claim",
  "writeRule",
  "removeRule",
  "reloadAndTrigger",
  "waitSymlink",
]);

export function isDom0Step(step: Step): step is Dom0Step {
  return DOM0_KINDS.has(step.kind);
}

/** Plans the steps; throws RefusedError (core/refusals.ts) when converging is unsafe or not ours to do. */
export function planConverge(observed: PlanView, inputs: PassthroughDiskInputs): Step[] {
  const { disk, vm } = refuseUnsafe(observed, inputs);
  const steps: Step[] = [];
  const rule = renderRule(inputs.disk, observed.owner);
  const location = symlinkPath(disk.kernelName);
  const ruleChanged = observed.ruleText !== rule.text;
  const claimed = observed.claimOwner === observed.owner;
  // The claim goes first, in the same udev round as the rule: dom0 decides between two claimants.
  if (!claimed && observed.claimKey !== undefined) {
    const previous = observed.claimOwner === undefined ? undefined : observed.previousOwner;
    steps.push({ kind: "claim", key: observed.claimKey, owner: observed.owner, previous });
  }
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

function vbdSteps(observed: PlanView, inputs: PassthroughDiskInputs, vm: Target["vm"]): Step[] {
  const steps: Step[] = [];
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
    current.vdiUuid === observed.vdi?.uuid &&
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
