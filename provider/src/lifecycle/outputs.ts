// The resource state (outputs) from the host's view: ids, what was made, what was observed, and
// the drift: what the next `up` would change (core/drift.ts reads it from the converge plan) and
// notes on what it cannot change.
import { notesOf, repairsOf, repairsVbd } from "../core/drift.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { renderRule, ruleStatus, symlinkPath } from "../core/rule.js";
import { describeDiskAs } from "../core/identity.js";
import type { ObservedState, PassthroughDiskState } from "../core/state.js";
import type { HostView } from "../core/host-view.js";

export function observedState(view: HostView, inputs: PassthroughDiskInputs): ObservedState {
  const { disk, vdi, vbd, vm } = view;
  return {
    ruleStatus: ruleStatus(view.ruleText, inputs.disk, view.owner),
    diskPresent: disk !== undefined,
    kernelName: disk?.kernelName ?? "",
    symlinkPresent: view.symlinkPresent,
    vdiPresent: vdi !== undefined,
    vbdPresent: vbd !== undefined,
    vbdOnCurrentVdi: vbd !== undefined && vdi !== undefined && vbd.vdiUuid === vdi.uuid,
    vbdAttached: vbd?.currentlyAttached ?? false,
    vbdMode: vbd?.mode ?? "",
    vbdUserdevice: vbd?.userdevice ?? "",
    vbdBootable: vbd?.bootable ?? false,
    vmPresent: vm !== undefined,
    vmPowerState: vm?.powerState ?? "",
    vmCanHotplug: vm?.canHotplug ?? false,
    vmResidentOn: vm?.residentOnUuid ?? "",
    vmOnDiskHost: vm === undefined || vm.residentOnUuid === "" || vm.residentOnUuid === view.hostUuid,
    vmAffinityOnDiskHost: vm?.affinityUuid === view.hostUuid,
    bootRepair: view.bootRepair.status,
    bootRepairFailure: view.bootRepair.failure ?? "",
    symlinkNaming: view.symlinkNaming,
    hostResolvesSymlinks: view.resolvesSymlinks,
    smVersion: view.smVersion ?? "",
    vbdOtherDisk: view.vbdOtherDisk === undefined ? "" : describeDiskAs(inputs.disk, view.vbdOtherDisk),
  };
}

/**
 * The kernel name refresh records. A stable symlink survives kernel renames, so the current name
 * is just a fact. A kernel-named one keeps the recorded name while the rename leaves the VBD to
 * repair (drift says "the disk came back as ..."); when nothing is left to repair (the boot repair
 * of sm 2.x hosts already moved the VBD), the new name is recorded and is not drift.
 */
export function kernelNameToRecord(view: HostView, inputs: PassthroughDiskInputs, recorded: string): string {
  const current = view.disk?.kernelName;
  if (current === undefined) return recorded;
  if (view.symlinkNaming === "stable") return current;
  return repairsVbd(view, inputs) ? recorded : current;
}

/**
 * `kernelName` is the one the passthrough was made for: create and update pass the current one,
 * read keeps the recorded one, so a disk back under another name stays visible as drift.
 */
export function stateFromView(
  view: HostView,
  inputs: PassthroughDiskInputs,
  kernelName: string,
): PassthroughDiskState {
  const observed = observedState(view, inputs);
  const rule = renderRule(inputs.disk, view.owner, view.symlinkNaming);
  // A stable name does not depend on the kernel name; a kernel name is the one recorded.
  const link =
    view.symlinkNaming === "stable" && view.symlinkName !== undefined
      ? symlinkPath(view.symlinkName)
      : kernelName === ""
        ? ""
        : symlinkPath(kernelName);
  return {
    ...inputs,
    hostUuid: view.hostUuid,
    vmUuid: view.vm?.uuid ?? "",
    vdiUuid: view.vdi?.uuid ?? "",
    vbdUuid: view.vbd?.uuid ?? "",
    device: view.vbd?.device ?? "",
    kernelName,
    symlinkPath: link,
    rulePath: rule.path,
    ruleText: rule.text,
    currentlyAttached: observed.vbdAttached,
    sizeBytes: view.disk?.sizeBytes ?? 0,
    observed,
    drift: [...repairsOf(view, inputs, kernelName), ...notesOf(observed, inputs)],
  };
}

/**
 * Anything of ours left on the host: our rule, a VBD with our tag, our claim, our boot-repair
 * record, or, with no one
 * else's rule for the disk, its symlink or its VDI (what our rule made, left behind when the rule
 * and the VBD were removed by hand). Only when none is left is the resource gone: reporting it
 * gone earlier would make the engine forget pieces that then stay on the host for good.
 */
export function anythingOurs(view: HostView): boolean {
  const ownClaim = view.claimOwner !== undefined && view.claimOwner === view.owner;
  const leftByOurRule = view.otherRules.length === 0 && (view.symlinkPresent || view.vdi !== undefined);
  const ownRecord = view.bootRepair.recordPresent && view.foreignOwner === undefined;
  return view.ruleText !== undefined || view.ownVbds.length > 0 || ownClaim || leftByOurRule || ownRecord;
}
