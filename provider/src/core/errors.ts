// The core's errors: inputs, refusals, the host's state, our own bugs. Each is a PassthroughError
// (core/error-base.ts): a stable `code` and its `params`; the message says what failed, on what,
// and what to do.
import { messageOf, PassthroughError } from "./error-base.js";

/** One check failure, in the shape Pulumi's CheckResult wants. */
export interface CheckFailure {
  /** Dotted property path, like "disk.serial" or "connection.proxy.host". */
  readonly property: string;
  /** What is wrong and what is allowed. Never contains the value itself. */
  readonly reason: string;
}

/** Inputs that fail validation (raised where check did not run first, e.g. a state from an old version). */
export class InvalidInputsError extends PassthroughError<"INVALID_INPUTS"> {
  override readonly name = "InvalidInputsError";
  constructor(
    readonly failures: readonly CheckFailure[],
    resource = "PassthroughDisk",
  ) {
    super(
      "INVALID_INPUTS",
      { properties: failures.map((f) => f.property).join(", ") },
      `invalid ${resource} inputs: ${failures.map((f) => `${f.property} ${f.reason}`).join("; ")}`,
    );
  }
}

/**
 * A create/update that failed half-way. The dynamic-provider host reports an error carrying `id`
 * as "resource initialization failed" and keeps `properties` as the resource's state, so the next
 * `pulumi up` resumes from there instead of losing track of what was made.
 */
export class PartialResourceError extends PassthroughError<"PARTIAL_RESOURCE"> {
  override readonly name = "PartialResourceError";
  readonly reasons: string[];
  constructor(
    message: string,
    readonly id: string,
    readonly properties: Record<string, unknown>,
    options?: { readonly cause?: unknown },
  ) {
    super("PARTIAL_RESOURCE", { id }, message, options);
    this.reasons = [message];
  }
}

/** Why converging would take something that is not ours, or cannot start (core/refusals.ts). */
export type RefusalCode =
  | "NOT_A_DOM0"
  | "HOST_UNKNOWN_TO_XAPI"
  | "VM_AMBIGUOUS"
  | "DISK_NOT_FOUND"
  | "VM_NOT_FOUND"
  | "DISK_MANAGED_ELSEWHERE"
  | "DISK_OWNED_ELSEWHERE"
  | "DISK_IN_OTHER_RULE"
  | "DISK_ATTACHED_ELSEWHERE"
  | "DISK_HAS_UNMANAGED_VBD"
  | "DISK_IN_USE_BY_DOM0"
  | "NO_REMOVABLE_STORAGE_SR"
  | "REMOVABLE_STORAGE_SR_UNPLUGGED"
  | "VM_IS_CONTROL_DOMAIN"
  | "RO_DISK_ON_HVM_GUEST"
  | "VM_ON_OTHER_HOST"
  | "VM_CANNOT_HOTPLUG";

/** A refusal before anything changed on the host; the message says what to do. */
export class RefusedError extends PassthroughError<RefusalCode> {
  override readonly name = "RefusedError";
}

/** A broken invariant of our own code (a bug), never a fault of the host or the inputs. */
export class InternalError extends PassthroughError<"INTERNAL"> {
  override readonly name = "InternalError";
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super("INTERNAL", {}, `internal error: ${message}`, options);
  }
}

/** A create failed, and undoing what it had done failed too: `leftovers` says what stays on the host. */
export class RollbackIncompleteError extends PassthroughError<"ROLLBACK_INCOMPLETE"> {
  override readonly name = "RollbackIncompleteError";
  constructor(
    readonly leftovers: readonly string[],
    options: { readonly cause: unknown },
  ) {
    super(
      "ROLLBACK_INCOMPLETE",
      { leftovers: leftovers.join("; ") },
      `${messageOf(options.cause)}; the rollback could not undo everything: ${leftovers.join("; ")}`,
      options,
    );
  }
}

/** The host did not end up as a step expected (after the change was made, so not a refusal). */
export class HostStateError extends PassthroughError<
  "VDI_NOT_LISTED" | "VBD_NOT_COLLECTED" | "DEVICE_NOT_PRESENT" | "DISK_PLUGGED_BY_OTHER_RESOURCE"
> {
  override readonly name = "HostStateError";
}

/** The dom0 inventory script's output ended before its "@end" marker. */
export class InventoryCutShortError extends PassthroughError<"INVENTORY_CUT_SHORT"> {
  override readonly name = "InventoryCutShortError";
  constructor() {
    super(
      "INVENTORY_CUT_SHORT",
      {},
      "the dom0 inventory script did not run to its end (output was cut short)",
    );
  }
}
