// Drift, read from the converge plan: what the next `pulumi up` would change for this view, in
// words, or why it would be refused (repairsOf); and what no `up` can change (notesOf: the VM
// halted, without PV drivers or on another host, a failed boot repair). A fact that moved with
// nothing to repair is not drift. Pure.
import { BOOT_REPAIR_LOG } from "./boot-repair.js";
import { planConverge, type PlanView } from "./converge-plan.js";
import { RefusedError } from "./errors.js";
import type { HostView } from "./host-view.js";
import { describeDisk, describeDiskAs, type DiskNames } from "./identity.js";
import type { PassthroughDiskInputs } from "./inputs.js";
import type { Plan, XapiStep } from "./plan.js";
import { stableSymlinkName } from "./rule.js";
import type { ObservedState } from "./state.js";

/** The view drift is read from: what planning reads, the host's sm version and the other disk, for the words. */
export type DriftView = PlanView &
  Pick<HostView, "smVersion"> & { readonly vbdOtherDisk: DiskNames | undefined };

/**
 * The refusal a note already says (notesOf): a VM running on another host is reported, never
 * planned. Any other refusal is drift, so the next `up` fails with its clear error rather than
 * staying silent.
 */
const SAID_BY_NOTES: ReadonlySet<string> = new Set(["VM_ON_OTHER_HOST"]);

/** A refusal as drift: what is missing, for the two that are facts of the host; else its message. */
function refusalAsDrift(view: DriftView, refusal: RefusedError): string[] {
  if (SAID_BY_NOTES.has(refusal.code)) return [];
  if (refusal.code === "VM_NOT_FOUND") return ["the VM was not found"];
  const absent = view.diskProblem === undefined || view.diskProblemCode === "DISK_ABSENT";
  if (refusal.code === "DISK_NOT_FOUND" && absent) return ["the disk is not present on the host"];
  return [refusal.message];
}

/**
 * What the next `up` would change, one line per cause. `recordedKernelName`: the kernel name the
 * state recorded, so a disk back under another name is said as such. When `up` would be refused,
 * the refusal is the drift (unless a note says it).
 */
export function repairsOf(
  view: DriftView,
  inputs: PassthroughDiskInputs,
  recordedKernelName: string,
): string[] {
  let plan: Plan;
  try {
    plan = planConverge(view, inputs);
  } catch (error) {
    if (!(error instanceof RefusedError)) throw error;
    return refusalAsDrift(view, error);
  }
  return [...dom0Repairs(view, plan, inputs), ...vbdRepairs(view, plan, inputs, recordedKernelName)];
}

/**
 * Whether the plan repairs the VBD (replaces or creates one). A kernel-named disk back under
 * another name without such a repair (the boot repair already moved the VBD) is a fact to record,
 * not drift.
 */
export function repairsVbd(view: DriftView, inputs: PassthroughDiskInputs): boolean {
  try {
    return planVbdSteps(planConverge(view, inputs)).some((step) => REPLACING.has(step.kind));
  } catch (error) {
    if (error instanceof RefusedError) return true;
    throw error;
  }
}

const REPLACING: ReadonlySet<XapiStep["kind"]> = new Set(["createVbd", "destroyVbd", "awaitVbdCollected"]);

const planVbdSteps = (plan: Plan): XapiStep[] => [...plan.release, ...plan.attach];

function dom0Repairs(view: DriftView, plan: Plan, inputs: PassthroughDiskInputs): string[] {
  const change = plan.dom0;
  const lines: string[] = [];
  if (change?.writeRule !== undefined) {
    const stableName = stableSymlinkName(inputs.disk);
    if (view.symlinkNaming !== view.wantedNaming && stableName !== undefined) {
      lines.push(
        `the symlink is named after the kernel name (${view.disk?.kernelName ?? "?"}): this host resolves symlinks ` +
          `(sm ${view.smVersion ?? "3.x"}), so an update renames it ${stableName}, which survives reboots`,
      );
    } else if (view.ruleText === undefined) lines.push("the udev rule file was deleted");
    else lines.push("the udev rule file was edited");
  }
  if (change?.claim !== undefined)
    lines.push(
      view.claimOwner === undefined
        ? "dom0 holds no claim of this resource on the disk"
        : "the disk's claim names an earlier owner id of this resource: an update re-points it",
    );
  for (const path of change?.setAsideRules ?? [])
    lines.push(`another rule gives the disk its symlink (${path}): an update sets it aside (adopt: true)`);
  if (change?.awaitLink !== undefined && change.writeRule === undefined && !view.symlinkPresent)
    lines.push("the /dev/xapi/block symlink is gone");
  const repair = change?.bootRepair;
  if (repair !== undefined && view.bootRepair.status === "missing")
    lines.push(
      "the boot repair (xen-passthrough-boot-repair.service) is missing on this host: a reboot that renames disks would take the disk from the VM, or give it another",
    );
  if (repair !== undefined && view.bootRepair.status === "outdated")
    lines.push("the boot repair (xen-passthrough-boot-repair.service) on this host is outdated");
  return lines;
}

function vbdRepairs(
  view: DriftView,
  plan: Plan,
  inputs: PassthroughDiskInputs,
  recordedKernelName: string,
): string[] {
  const steps = planVbdSteps(plan);
  const has = (kind: XapiStep["kind"]) => steps.some((step) => step.kind === kind);
  const replacing = steps.some((step) => REPLACING.has(step.kind));
  const migrating = view.symlinkNaming !== view.wantedNaming;
  const lines: string[] = [];
  const current = view.disk?.kernelName;
  if (
    replacing &&
    view.symlinkNaming !== "stable" &&
    current !== undefined &&
    recordedKernelName !== "" &&
    current !== recordedKernelName
  )
    lines.push(`the disk came back as ${current} (it was ${recordedKernelName})`);
  if (view.symlinkPresent && view.vdi === undefined && !migrating)
    lines.push("the udev SR has no VDI for the disk");
  const vbd = view.vbd;
  if (vbd === undefined && view.otherVbds.length === 0 && has("createVbd"))
    lines.push("the VBD was destroyed");
  if (has("adoptVbd")) {
    lines.push(
      vbd === undefined
        ? `VBD ${view.otherVbds[0]?.uuid ?? "?"} of the disk is not this resource's: an update takes it over (adopt: true)`
        : "the VBD names an earlier owner id of this resource: an update re-tags it",
    );
  }
  if (vbd !== undefined && replacing && !migrating) {
    if (view.vbdOtherDisk !== undefined)
      lines.push(
        `the VBD points at disk ${describeDiskAs(inputs.disk, view.vbdOtherDisk)} now; expected ${describeDisk(inputs.disk)}`,
      );
    else if (vbd.vdiUuid !== view.vdi?.uuid) lines.push("the VBD refers to a VDI that is gone");
    if (vbd.vmUuid !== view.vm?.uuid) lines.push("the VBD is on another VM");
  }
  if (vbd !== undefined && !migrating) {
    const settings = settingsDrift(vbd, inputs, replacing || has("setVbdBootable"));
    if (settings.length > 0) lines.push(`the VBD has ${settings.join(", ")}`);
  }
  if (has("plugVbd") && !has("createVbd")) lines.push("the VBD was unplugged");
  if (has("unplugVbd") && !replacing) lines.push("the VBD is plugged but attach is false");
  if (has("setVmAffinity")) lines.push("the VM's affinity is not the disk's host (setAffinity: true)");
  return lines;
}

/** The VBD's settings an update changes (mode and userdevice only by replacing it). */
function settingsDrift(
  vbd: NonNullable<DriftView["vbd"]>,
  inputs: PassthroughDiskInputs,
  touched: boolean,
): string[] {
  if (!touched) return [];
  const found: string[] = [];
  if (vbd.mode !== inputs.mode) found.push(`mode ${vbd.mode} (wanted ${inputs.mode})`);
  if (inputs.userdevice !== "autodetect" && vbd.userdevice !== inputs.userdevice)
    found.push(`userdevice ${vbd.userdevice} (wanted ${inputs.userdevice})`);
  if (vbd.bootable !== inputs.bootable) found.push(`bootable ${vbd.bootable} (wanted ${inputs.bootable})`);
  return found;
}

/**
 * What no `up` can change, from what was observed (diff reads it from a stored state too, to tell
 * these apart from the repairs in `drift`).
 */
export function notesOf(observed: ObservedState, inputs: PassthroughDiskInputs): string[] {
  const notes: string[] = [];
  const running = observed.vmPowerState === "Running";
  const unplugged = observed.vbdPresent && inputs.attach && running && !observed.vbdAttached;
  // false, not undefined: states written before this fact was observed read as before.
  if (unplugged && observed.vmCanHotplug === false)
    notes.push(
      "the VBD is not plugged: the VM runs without PV drivers, so the disk attaches when the VM next starts (or its drivers appear)",
    );
  if (observed.vmOnDiskHost === false)
    notes.push(
      `the VM runs on another host of the pool (${observed.vmResidentOn ?? "?"}): it cannot use the disk there`,
    );
  const vbdRight = observed.vbdPresent && observed.vbdOnCurrentVdi;
  if (observed.bootRepairFailure !== undefined && observed.bootRepairFailure !== "" && !vbdRight)
    notes.push(
      `the boot repair failed for this disk at the last boot: ${observed.bootRepairFailure} (see ${BOOT_REPAIR_LOG} on the host)`,
    );
  if (observed.vmPresent && !running && inputs.attach)
    notes.push(`the VM is ${observed.vmPowerState || "not running"}: the disk is plugged when the VM runs`);
  return notes;
}
