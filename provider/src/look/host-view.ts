// One look at a host, for one resource: core/host-view.ts's HostView assembled from what dom0
// reported (core/dom0-inventory.ts) and XAPI's records (xapi/snapshot.ts). The refusals a look
// alone can tell (not a dom0, a host XAPI does not know, an ambiguous VM name) are raised here.
import { bootRepairFacts } from "../core/boot-repair.js";
import type { Dom0Disk, Dom0Inventory } from "../core/dom0-inventory.js";
import { dom0Use, resolveDisk } from "../core/dom0-inventory.js";
import { RefusedError } from "../core/errors.js";
import { resourceTag, type HostView, type VbdFacts } from "../core/host-view.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { claimKey, legacyOwner, ownerOf, VBD_TAG_KEY } from "../core/owner.js";
import { vmAmbiguous } from "../core/refusals.js";
import {
  conflictingRules,
  ruleNaming,
  ruleOwner,
  rulePath,
  stableSymlinkName,
  symlinkName,
  symlinkNamingFor,
  symlinkPath,
} from "../core/rule.js";
import { smResolvesSymlinks } from "../core/sm-version.js";
import { BOOT_REPAIR_MARKER } from "../dom0/boot-repair.js";
import { canHotplugDisks, hostUuidOf, isHvm } from "../xapi/guest.js";
import type { Ref, VbdRecord } from "../xapi/records.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";
import { uuidOf } from "../xapi/snapshot.js";
import { isTagged, vbdOwnerKey } from "../xapi/vbd.js";
import { vdiAt } from "../xapi/vdi.js";
import { vmsNamed } from "../xapi/vm.js";
import { hostSide } from "./host-side.js";

/** The view, with the XAPI records it was read from (an apply carries them on). */
export interface HostLook extends HostView {
  readonly snapshot: XapiSnapshot;
}

/**
 * The view of one resource from what dom0 and XAPI reported. `previous` is the owner an update's
 * old state names (its `owner`, or undefined for a state of an earlier version): pieces it owns
 * are this resource's too, and get migrated.
 */
export function viewOf(
  inventory: Dom0Inventory,
  snapshot: XapiSnapshot,
  inputs: PassthroughDiskInputs,
  previous?: { readonly owner: string | undefined },
): HostLook {
  const hostUuid = inventory.xensource["INSTALLATION_UUID"];
  if (hostUuid === undefined || hostUuid === "") {
    throw new RefusedError(
      "NOT_A_DOM0",
      {},
      "/etc/xensource-inventory on the SSH host has no INSTALLATION_UUID: is this a XenServer / XCP-ng dom0?",
    );
  }
  const tag = resourceTag(hostUuid, inputs);
  const owner = ownerOf(hostUuid, inputs);
  const previousOwner = previous === undefined ? undefined : (previous.owner ?? tag);
  const ours = (who: string | undefined) => who === owner || (who !== undefined && who === previousOwner);
  const resolution = resolveDisk(inventory, inputs.disk);
  const disk = resolution.ok ? resolution.disk : undefined;
  const { host, sr } = hostSide(snapshot, hostUuid);
  const vms = vmsNamed(snapshot, inputs.vm);
  if (vms.length > 1)
    throw vmAmbiguous(
      inputs.vm,
      vms.map((candidate) => candidate.uuid),
    );
  const vm = vms[0];
  const ruleFound = inventory.passthroughRules.get(rulePath(inputs.disk));
  // A rule of ours written before owners existed belongs to the host-and-identity owner.
  const ruleOwnedBy = ruleFound === undefined ? undefined : (ruleOwner(ruleFound) ?? tag);
  const ruleText = ours(ruleOwnedBy) ? ruleFound : undefined;
  const resolvesSymlinks = smResolvesSymlinks(inventory.smVersion);
  const wantedNaming = symlinkNamingFor(inputs.disk, resolvesSymlinks);
  // Without a rule of ours, a kernel-named link of the disk (a hand-made passthrough to adopt)
  // is the naming in place; the plan moves it to the wanted one.
  const linkedAs = (name: string | undefined) =>
    disk !== undefined && name !== undefined && inventory.xapiBlock.get(name) === disk.kernelName;
  const naming =
    ruleText !== undefined
      ? ruleNaming(ruleText)
      : linkedAs(disk?.kernelName) && !linkedAs(stableSymlinkName(inputs.disk))
        ? "kernelName"
        : wantedNaming;
  const linkName = disk === undefined ? undefined : symlinkName(inputs.disk, disk.kernelName, naming);
  const vdi =
    sr !== undefined && linkName !== undefined ? vdiAt(snapshot, sr.ref, symlinkPath(linkName)) : undefined;
  const key = disk === undefined ? undefined : claimKey(disk);
  const claimOwner = key === undefined ? undefined : inventory.claims.get(key);
  // A VBD's owner key; without one (earlier versions, or a re-tag cut short), a VBD with our tag
  // belongs to the holder of the disk's claim, and with no claim to its tag (the legacy owner).
  const vbdOwner = (vbd: VbdRecord): string | undefined => {
    const tagged = vbd.other_config[VBD_TAG_KEY];
    return vbdOwnerKey(vbd) ?? (tagged === tag && claimOwner !== undefined ? claimOwner : tagged);
  };
  const facts = (vbd: VbdRecord & { readonly $ref: Ref }): VbdFacts => ({
    ref: vbd.$ref,
    uuid: vbd.uuid,
    vmUuid: uuidOf(snapshot, vbd.VM),
    vdiUuid: uuidOf(snapshot, vbd.VDI),
    mode: vbd.mode,
    userdevice: vbd.userdevice,
    device: vbd.device,
    bootable: vbd.bootable,
    currentlyAttached: vbd.currently_attached,
    tag: vbd.other_config[VBD_TAG_KEY],
    owner: vbdOwner(vbd),
    ownerKey: vbdOwnerKey(vbd),
  });
  const ownVbds = snapshot.vbds.filter((vbd) => isTagged(vbd, tag) && ours(vbdOwner(vbd))).map(facts);
  const rank = (vbd: VbdFacts) =>
    (vm !== undefined && vbd.vmUuid === vm.uuid ? 2 : 0) +
    (vdi !== undefined && vbd.vdiUuid === vdi.uuid ? 1 : 0);
  // Another resource's VBD on our disk while the claim is ours: misplaced by a swap, not a claim.
  const misplaced = (vbd: VbdRecord): boolean => {
    const owner = vbdOwner(vbd);
    return (
      vbd.other_config[VBD_TAG_KEY] !== undefined && owner !== undefined && !ours(owner) && ours(claimOwner)
    );
  };
  const onVdi =
    vdi === undefined
      ? []
      : snapshot.vbds.filter((vbd) => vbd.VDI === vdi.$ref && !(isTagged(vbd, tag) && ours(vbdOwner(vbd))));
  const otherVbds = onVdi.filter((vbd) => !misplaced(vbd)).map(facts);
  const misplacedVbds = onVdi.filter(misplaced).map(facts);
  const otherRules =
    disk === undefined ? [] : conflictingRules(inventory.passthroughRules, disk, rulePath(inputs.disk));
  const owners = [
    claimOwner,
    ruleOwnedBy,
    ...otherRules.map((rule) =>
      rule.identity === undefined ? undefined : (rule.owner ?? legacyOwner(hostUuid, rule.identity)),
    ),
    ...snapshot.vbds
      .filter((vbd) => isTagged(vbd, tag) || (vdi !== undefined && vbd.VDI === vdi.$ref && !misplaced(vbd)))
      .map(vbdOwner),
  ];
  const vbd = [...ownVbds].sort((a, b) => rank(b) - rank(a))[0];
  return {
    hostUuid,
    smVersion: inventory.smVersion,
    resolvesSymlinks,
    hostName: host.name_label,
    hostRef: host.$ref,
    tag,
    owner,
    previousOwner,
    claimKey: key,
    claimOwner,
    foreignOwner: owners.find((who) => who !== undefined && !ours(who)),
    disk,
    diskProblem: resolution.ok ? undefined : resolution.reason,
    ...(resolution.ok ? {} : { diskProblemCode: resolution.code }),
    diskUse: disk === undefined ? undefined : dom0Use(inventory, disk),
    ruleText,
    otherRules,
    wantedNaming,
    symlinkNaming: naming,
    symlinkName: linkName,
    symlinkPresent:
      disk !== undefined && linkName !== undefined && inventory.xapiBlock.get(linkName) === disk.kernelName,
    sr,
    vm:
      vm === undefined
        ? undefined
        : {
            ref: vm.$ref,
            uuid: vm.uuid,
            powerState: vm.power_state,
            isControlDomain: vm.is_control_domain,
            hvm: isHvm(vm),
            canHotplug: canHotplugDisks(snapshot, vm),
            residentOnUuid: hostUuidOf(snapshot, vm.resident_on),
            residentOnName: snapshot.hosts.find((h) => h.$ref === vm.resident_on)?.name_label ?? "",
            affinityUuid: hostUuidOf(snapshot, vm.affinity),
          },
    vdi: vdi === undefined ? undefined : { ref: vdi.$ref, uuid: vdi.uuid, location: vdi.location },
    ownVbds,
    vbd,
    otherVbds,
    bootRepair: bootRepairFacts(inventory.bootRepair, {
      // Where the udev SR resolves symlinks, the names are stable: nothing to repair at boot.
      needed: !resolvesSymlinks,
      marker: BOOT_REPAIR_MARKER,
      identity: inputs.disk,
      tag,
      owner,
      vbd:
        vm === undefined
          ? undefined
          : { vmUuid: vm.uuid, userdevice: inputs.userdevice, mode: inputs.mode, bootable: inputs.bootable },
    }),
    misplacedVbds,
    vbdOtherDisk:
      vbd === undefined || disk === undefined ? undefined : diskAtVdi(inventory, snapshot, vbd, disk),
    inventory,
    snapshot,
  };
}

/**
 * The disk, other than ours, that a VBD's VDI resolves to through its /dev/xapi/block entry now
 * (two passed-through disks swapped kernel names: both locations still exist, each on the other
 * disk); undefined when it resolves to ours, to nothing, or the VDI is gone.
 */
function diskAtVdi(
  inventory: Dom0Inventory,
  snapshot: XapiSnapshot,
  vbd: VbdFacts,
  ours: Dom0Disk,
): Dom0Disk | undefined {
  const location = snapshot.vdis.find((vdi) => vdi.uuid === vbd.vdiUuid && vbd.vdiUuid !== "")?.location;
  const prefix = symlinkPath("");
  if (location === undefined || !location.startsWith(prefix)) return undefined;
  const kernelName = inventory.xapiBlock.get(location.slice(prefix.length));
  if (kernelName === undefined || kernelName === ours.kernelName) return undefined;
  return inventory.disks.find((disk) => disk.kernelName === kernelName);
}
