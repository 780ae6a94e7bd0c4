// What one look at a host saw, for one resource: the single description of the host. dom0's
// side (the disk, our rule, others' rules, the symlink) and XAPI's (the udev SR, the VM, the VDI
// at the symlink, our VBDs and others'). The planner reads it (converge-plan.ts), the outputs and
// drift are derived from it (lifecycle/outputs.ts), delete and rollback act on it. A new fact
// about the host is added here, in HostView and viewOf, and nowhere else. Pure.
import { BOOT_REPAIR_MARKER } from "../dom0/boot-repair.js";
import { bootRepairFacts, type BootRepairFacts } from "./boot-repair.js";
import type { DiskLookupCode, Dom0Disk, Dom0Inventory } from "./dom0-inventory.js";
import { dom0Use, resolveDisk } from "./dom0-inventory.js";
import { RefusedError } from "./errors.js";
import type { PassthroughDiskInputs, VbdMode } from "./inputs.js";
import { claimKey, legacyOwner, ownerOf } from "./owner.js";
import {
  conflictingRules,
  ruleNaming,
  ruleOwner,
  rulePath,
  stableSymlinkName,
  symlinkName,
  symlinkNamingFor,
  symlinkPath,
  type ConflictingRule,
  type SymlinkNaming,
} from "./rule.js";
import { smResolvesSymlinks } from "./sm-version.js";
import type { VmPowerState } from "./state.js";
import { canHotplugDisks, hostUuidOf, isHvm } from "../xapi/guest.js";
import { hostByUuid } from "../xapi/host.js";
import type { Ref, VbdRecord } from "../xapi/records.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";
import { uuidOf } from "../xapi/snapshot.js";
import { removableStorageSr } from "../xapi/sr.js";
import { isTagged, VBD_TAG_KEY, vbdOwnerKey } from "../xapi/vbd.js";
import { vdiAt } from "../xapi/vdi.js";
import { findVm } from "../xapi/vm.js";

export interface SrFacts {
  readonly ref: Ref;
  readonly uuid: string;
  readonly nameLabel: string;
}

export interface VmFacts {
  readonly ref: Ref;
  readonly uuid: string;
  readonly powerState: Exclude<VmPowerState, "">;
  readonly isControlDomain: boolean;
  /** Its disks are emulated by qemu (xapi/guest.ts): read-only disks are refused. */
  readonly hvm: boolean;
  /** VBD.plug/unplug can run now: false for a running HVM guest without PV drivers. */
  readonly canHotplug: boolean;
  /** The pool host the VM runs on ("" when it is not running). */
  readonly residentOnUuid: string;
  readonly residentOnName: string;
  /** The host VM.start prefers ("" when none). */
  readonly affinityUuid: string;
}

export interface VdiFacts {
  readonly ref: Ref;
  readonly uuid: string;
  readonly location: string;
}

/** A VBD as found (XAPI field values; VM and VDI by uuid, "" for a dangling reference). */
export interface VbdFacts {
  readonly ref: Ref;
  readonly uuid: string;
  readonly vmUuid: string;
  readonly vdiUuid: string;
  readonly mode: VbdMode;
  readonly userdevice: string;
  readonly device: string;
  readonly bootable: boolean;
  readonly currentlyAttached: boolean;
  /** Our tag (other_config), if any. */
  readonly tag: string | undefined;
  /** The resource that owns it (core/owner.ts); undefined for VBDs not made by this provider. */
  readonly owner: string | undefined;
  /** The owner its other_config names (undefined: none, e.g. an earlier version's VBD). */
  readonly ownerKey: string | undefined;
}

export interface HostView {
  /** INSTALLATION_UUID of dom0's xensource-inventory. */
  readonly hostUuid: string;
  /** Version of the host's sm package (undefined: not known, e.g. no rpm). */
  readonly smVersion: string | undefined;
  /** The host's udev SR resolves symlinks (sm >= 3.0.6, core/sm-version.ts): stable names work. */
  readonly resolvesSymlinks: boolean;
  /** The host's name_label and reference in XAPI. */
  readonly hostName: string;
  readonly hostRef: Ref;
  /** Tag of our VBD (other_config) and the resource id: unique per host and disk identity. */
  readonly tag: string;
  /** Our owner id (core/owner.ts): recorded in the claim, the rule and the VBD. */
  readonly owner: string;
  /** Owner ids that are this resource too (renamed, or an earlier version's state): taken over. */
  readonly previousOwner: string | undefined;
  /** Key of the disk's claim on dom0 (undefined: disk not found). */
  readonly claimKey: string | undefined;
  /** Who holds the disk's claim now (undefined: nobody). */
  readonly claimOwner: string | undefined;
  /** Another resource that owns the disk (its claim, the rule at our path, a VBD): we touch nothing. */
  readonly foreignOwner: string | undefined;
  /** The disk, resolved by its identity (undefined: not found, see diskProblem). */
  readonly disk: Dom0Disk | undefined;
  /** Why the disk was not resolved (not found, ambiguous, a partition). */
  readonly diskProblem: string | undefined;
  /** What kind of problem diskProblem is (undefined: none, or not known). */
  readonly diskProblemCode?: DiskLookupCode;
  /** Why dom0 itself uses the disk (boot disk, mounted, swap, held); undefined when free. */
  readonly diskUse: string | undefined;
  /** Content of our rule file (undefined: no file, or another owner's). */
  readonly ruleText: string | undefined;
  /** Rules of others that give the same disk a xapi/block symlink (see conflictingRules). */
  readonly otherRules: readonly ConflictingRule[];
  /** The naming this resource wants on this host (core/rule.ts symlinkNamingFor). */
  readonly wantedNaming: SymlinkNaming;
  /** The naming in place: our rule's, or the wanted one when there is no rule of ours. */
  readonly symlinkNaming: SymlinkNaming;
  /** The disk's /dev/xapi/block entry name under the naming in place (undefined: disk not found). */
  readonly symlinkName: string | undefined;
  /** /dev/xapi/block/<symlinkName> exists and resolves to the disk. */
  readonly symlinkPresent: boolean;
  /** The host's udev "Removable storage" SR. */
  readonly sr: SrFacts | undefined;
  /** The VM (undefined: not found). */
  readonly vm: VmFacts | undefined;
  /** The VDI of the SR whose location is the disk's symlink. */
  readonly vdi: VdiFacts | undefined;
  /** VBDs carrying our tag and owned by us (normally one). */
  readonly ownVbds: readonly VbdFacts[];
  /** The one of them that counts: preferably on the wanted VM and the current VDI. */
  readonly vbd: VbdFacts | undefined;
  /** VBDs of the disk's VDI without our tag (hand-made, or another tool's). */
  readonly otherVbds: readonly VbdFacts[];
  /** The boot repair of hosts that do not resolve symlinks (core/boot-repair.ts), for this passthrough. */
  readonly bootRepair: BootRepairFacts;
  /**
   * VBDs of another resource on the disk's VDI while the disk's claim is ours: left there when two
   * disks swapped kernel names. Not that resource's claim on our disk: its own repair removes them.
   */
  readonly misplacedVbds: readonly VbdFacts[];
  /** Another disk of this host that our VBD's VDI resolves to now (two disks swapped kernel names). */
  readonly vbdOtherDisk: Dom0Disk | undefined;
  /** What the look read, from which an apply derives the host it leaves (lifecycle/after-apply.ts). */
  readonly inventory: Dom0Inventory;
  readonly snapshot: XapiSnapshot;
}

/** The resource id and VBD tag: host and disk identity (the legacy owner id, core/owner.ts). */
export function resourceTag(hostUuid: string, inputs: PassthroughDiskInputs): string {
  return legacyOwner(hostUuid, inputs.disk);
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
): HostView {
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
  const host = hostByUuid(snapshot, hostUuid);
  const sr = removableStorageSr(snapshot, host.$ref);
  const vm = findVm(snapshot, inputs.vm);
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
    sr !== undefined && linkName !== undefined ? vdiAt(snapshot, sr.$ref, symlinkPath(linkName)) : undefined;
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
    sr: sr === undefined ? undefined : { ref: sr.$ref, uuid: sr.uuid, nameLabel: sr.name_label },
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
