// The plan of one operation (create/update: converge-plan.ts, delete: remove-plan.ts, rollback:
// rollback-plan.ts) as a value with named parts. lifecycle/apply.ts runs the parts in this order:
// release, dom0, attach, forget. Pure types.
import type { VbdMode } from "./inputs.js";

export interface Plan {
  /** XAPI steps that get VBDs of ours off the disk before dom0 changes (a rename, a swap, a delete). */
  readonly release: readonly XapiStep[];
  /** The one change on dom0: it goes out as one request of the host's shared udev round. */
  readonly dom0: Dom0Change | undefined;
  /** XAPI steps after dom0: the VDI, our VBD, its plug, the VM's affinity. */
  readonly attach: readonly XapiStep[];
  /** Once the symlink is gone: the VDI the udev SR must forget. */
  readonly forget: VdiForget | undefined;
}

/** A claim on a disk (core/owner.ts): dom0 decides between two claimants. */
export interface ClaimChange {
  readonly key: string;
  readonly owner: string;
  /** An earlier owner of the same resource whose claim is re-pointed to `owner`. */
  readonly previous?: string;
}

/** What changes on dom0, by what it is for. Every field is optional: absent means "not this time". */
export interface Dom0Change {
  /** Take the disk's claim first: when another owner holds it, nothing else of the change runs. */
  readonly claim?: ClaimChange;
  /** Drop this owner's claim (delete, rollback). */
  readonly releaseClaim?: ClaimChange;
  /** Our rule file, written atomically. */
  readonly writeRule?: { readonly path: string; readonly text: string };
  /** Our rule file, deleted. */
  readonly removeRule?: string;
  /** Others' rules for the disk, set aside (adopt): never deleted. */
  readonly setAsideRules?: readonly string[];
  /** Rules set aside earlier, moved back (a rolled-back adopt). */
  readonly restoreRules?: readonly string[];
  /** The disk (kernel name) udev re-evaluates after the rules changed. */
  readonly retrigger?: string;
  /** The symlink to wait for, with its bound and the disk it resolves to. */
  readonly awaitLink?: {
    readonly path: string;
    readonly timeoutSeconds: number;
    readonly kernelName: string;
  };
  /** The symlink that must be gone after the re-evaluation (a removed rule's). */
  readonly awaitLinkGone?: { readonly path: string; readonly timeoutSeconds: number };
  readonly bootRepair?: BootRepairChange;
}

/**
 * The boot repair's pieces (core/boot-repair.ts) that change: this passthrough's record, named by
 * the rule's slug, and the host's unit, script and enabling link. Where they live on dom0 is
 * known only to lifecycle/dom0-request.ts.
 */
export interface BootRepairChange {
  readonly recordName: string;
  /** The record written with this text. */
  readonly writeRecord?: string;
  readonly removeRecord?: boolean;
  /** The note the script left when it failed to repair this passthrough at a boot. */
  readonly removeFailureNote?: boolean;
  /** Unit, script and enabling link installed (missing, or not this version's). */
  readonly installUnit?: boolean;
  /** Unit, script and enabling link removed at the end of the round if dom0 has no claim left. */
  readonly removeUnitWhenUnclaimed?: boolean;
}

/** The VDI the udev SR forgets: a known one (delete), or what a scan still lists at a location (rollback). */
export type VdiForget =
  | { readonly kind: "knownVdi"; readonly vdiUuid: string }
  | { readonly kind: "vdiLeftAt"; readonly location: string };

/**
 * Steps in XAPI. What each one needs and yields is typed in lifecycle/xapi-steps.ts: ensureVdi
 * yields the VDI; adoptVbd and createVbd yield our VBD, destroyVbd drops it; the others act on it.
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
  | { readonly kind: "setVmAffinity" }
  /**
   * Every VBD of ours goes (delete), at once: unplugged first if plugged. One plugged in XAPI's GC
   * window (its VDI gone) is left to the GC (converge-plan.ts removeVbdSteps says why).
   */
  | {
      readonly kind: "removeOwnVbds";
      readonly vbds: readonly { readonly uuid: string; readonly unplug: boolean }[];
      readonly leftToGc: readonly string[];
    };

/** A plan that changes nothing. */
export const EMPTY_PLAN: Plan = { release: [], dom0: undefined, attach: [], forget: undefined };

/** Whether running the plan would change anything on the host. */
export function changesAnything(plan: Plan): boolean {
  return (
    plan.release.length > 0 || plan.dom0 !== undefined || plan.attach.length > 0 || plan.forget !== undefined
  );
}
