// What one chaos cycle does, decided from the PRNG alone (pure): an operation on one resource,
// maybe a fault armed for it, maybe a drift made on the host before it. The driver carries it out.
import type { Random } from "./prng";

export type OperationKind = "create" | "refresh" | "update" | "replace" | "delete";
export type FaultKind =
  "xapi-fault" | "exec-fault" | "ssh-cut-handshake" | "ssh-cut-exec" | "ssh-cut-stream" | "provider-kill";
export type DriftKind = "unplug" | "vbd-destroyed" | "rule-deleted" | "disk-rebooted" | "vm-halted-started";

export const FAULT_KINDS: readonly FaultKind[] = [
  "xapi-fault",
  "exec-fault",
  "ssh-cut-handshake",
  "ssh-cut-exec",
  "ssh-cut-stream",
  "provider-kill",
];
export const DRIFT_KINDS: readonly DriftKind[] = [
  "unplug",
  "vbd-destroyed",
  "rule-deleted",
  "disk-rebooted",
  "vm-halted-started",
];
/**
 * What a drift planned for a PassthroughUsb does: the drifts that take a piece away pull the
 * stick out and plug it back before XAPI notices the return; those that change where the disk
 * is move the stick to another port.
 */
export type UsbDriftKind = "usb-replugged" | "usb-moved";
export function usbDriftOf(kind: DriftKind): UsbDriftKind {
  return kind === "rule-deleted" || kind === "disk-rebooted" ? "usb-moved" : "usb-replugged";
}

export const VMS = ["media-server", "archive"] as const;
export const MODES = ["RW", "RO"] as const;

/** A fault and where in the operation it strikes (the nth XAPI call or SSH session from now). */
export interface PlannedFault {
  kind: FaultKind;
  at: number;
}

export interface Cycle {
  /** Index of the resource the operation is about. */
  resource: number;
  operation: OperationKind;
  /** For update/replace/create: the inputs wanted from now on. */
  vm: (typeof VMS)[number];
  mode: (typeof MODES)[number];
  fault?: PlannedFault;
  /** A drift on a created resource's pieces, made before the operation. */
  drift?: { kind: DriftKind; resource: number };
}

/** Pure: the next cycle, given which resources the engine holds (created or pending). */
export function planCycle(random: Random, created: readonly boolean[], wanted: readonly Cycle[]): Cycle {
  const resource = random.below(created.length);
  const current = wanted[resource];
  let operation: OperationKind;
  let vm = current?.vm ?? random.pick(VMS);
  let mode = current?.mode ?? random.pick(MODES);
  if (created[resource] !== true) operation = "create";
  else {
    operation = random.pick<OperationKind>(["refresh", "refresh", "update", "update", "replace", "delete"]);
    if (operation === "update") mode = mode === "RW" ? "RO" : "RW";
    if (operation === "replace") vm = vm === VMS[0] ? VMS[1] : VMS[0];
  }
  const cycle: Cycle = { resource, operation, vm, mode };
  if (random.chance(0.5)) cycle.fault = { kind: random.pick(FAULT_KINDS), at: 1 + random.below(6) };
  const holders = created.flatMap((isCreated, index) => (isCreated ? [index] : []));
  if (holders.length > 0 && random.chance(0.3)) {
    cycle.drift = { kind: random.pick(DRIFT_KINDS), resource: random.pick(holders) };
  }
  return cycle;
}
