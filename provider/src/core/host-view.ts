// What one look at a host saw, for one resource: the single description of the host. dom0's
// side (the disk, our rule, others' rules, the symlink) and XAPI's (the udev SR, the VM, the VDI
// at the symlink, our VBDs and others'). The planner reads it (converge-plan.ts), the outputs and
// drift are derived from it (lifecycle/outputs.ts), delete and rollback act on it. look/host-view.ts
// assembles it from dom0's inventory and XAPI's records; a new fact about the host is added here,
// in HostView, and there, in viewOf. Pure types; references are XAPI's "OpaqueRef:..." strings.
import type { BootRepairFacts } from "./boot-repair.js";
import type { DiskLookupCode, Dom0Disk, Dom0Inventory } from "./dom0-inventory.js";
import type { PassthroughDiskInputs, VbdMode } from "./inputs.js";
import { legacyOwner } from "./owner.js";
import type { ConflictingRule, SymlinkNaming } from "./rule.js";
import type { VmPowerState } from "./state.js";

/** An XAPI object reference ("OpaqueRef:..."). */
type Ref = string;

export interface SrFacts {
  readonly ref: Ref;
  readonly uuid: string;
  readonly nameLabel: string;
  /** The uuid of this host's PBD of the SR when it is unplugged (XAPI then refuses to scan it). */
  readonly unpluggedPbd?: string;
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
  /** What dom0 reported, from which an apply derives the host it leaves (lifecycle/after-apply.ts). */
  readonly inventory: Dom0Inventory;
}

/** The resource id and VBD tag: host and disk identity (the legacy owner id, core/owner.ts). */
export function resourceTag(hostUuid: string, inputs: PassthroughDiskInputs): string {
  return legacyOwner(hostUuid, inputs.disk);
}
