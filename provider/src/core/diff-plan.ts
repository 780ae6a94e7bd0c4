// diff without I/O: what `pulumi up` must do, from the stored state and the checked new inputs.
import { notesOf } from "./drift.js";
import { DEFAULTS } from "./inputs.js";
import { MIGRATING_FROM } from "./owner.js";
import { exactInputsSchema, inputKeys } from "./schema.js";
import type { ObservedState } from "./state.js";
import { containsUnknown, isUnknown } from "./unknown.js";

/** The plan for one resource, in the shape of Pulumi's DiffResult (plus reasons, for people). */
export interface DiffPlan {
  readonly changes: boolean;
  /** Top-level inputs whose change needs a new resource: "connection", "disk", "vm". */
  readonly replaces: string[];
  /** Always: the old rule and VBD must be gone before the disk can be passed through again. */
  readonly deleteBeforeReplace: true;
  /** Why, in words ("mode: RW -> RO", "drift: the VBD was unplugged"). Not secret: values of secret inputs are never shown. */
  readonly reasons: string[];
}

/** Inputs added after the first release, with their defaults (what an older state meant). */
const ADDED_LATER: Readonly<Record<string, unknown>> = { setAffinity: DEFAULTS.setAffinity };

/** Inputs not shown in reasons because they are (or contain) secrets. */
const SECRET_INPUTS = new Set(["connection", "xapi"]);

/**
 * Replace when the host (connection host/port), the disk identity or the VM identity changes;
 * update when any other input changes (credentials included, so the state keeps working ones)
 * or the state refreshed by read shows repairable drift; no change otherwise. Unknown values
 * (preview) in an identity count as a replace, elsewhere as a change.
 */
export function planDiff(olds: Record<string, unknown>, news: Record<string, unknown>): DiffPlan {
  const replaces: string[] = [];
  const reasons: string[] = [];
  let changes = false;

  const oldConnection = asRecord(olds["connection"]);
  const newConnection = news["connection"];
  const hostOf = (c: Record<string, unknown>) => [c["host"], c["port"]];
  if (isUnknown(newConnection) || !same(hostOf(oldConnection), hostOf(asRecord(newConnection)))) {
    replaces.push("connection");
    reasons.push("connection: another host (host or port changed)");
  }
  if (!same(olds["disk"], news["disk"])) {
    replaces.push("disk");
    reasons.push(`disk: ${describe(olds["disk"])} -> ${describe(news["disk"])}`);
  }
  if (!same(olds["vm"], news["vm"]) && !sameVmByUuid(olds, news["vm"])) {
    replaces.push("vm");
    reasons.push(`vm: ${describe(olds["vm"])} -> ${describe(news["vm"])}`);
  }

  for (const key of inputKeys()) {
    if (key === "disk" || key === "vm" || same(olds[key], news[key])) continue;
    // An input added after the state was written: absent there means its default.
    if (key in ADDED_LATER && olds[key] === undefined && same(ADDED_LATER[key], news[key])) continue;
    if (key === "connection" && replaces.includes("connection")) continue;
    changes = true;
    reasons.push(
      SECRET_INPUTS.has(key) ? `${key}: changed` : `${key}: ${describe(olds[key])} -> ${describe(news[key])}`,
    );
  }

  const migrating = olds[MIGRATING_FROM];
  if (typeof migrating === "string") {
    changes = true;
    reasons.push(`owner: finishing the move of the disk's pieces from ${migrating}`);
  }
  for (const drift of repairableDrift(olds)) {
    changes = true;
    reasons.push(`drift: ${drift}`);
  }
  return { changes: changes || replaces.length > 0, replaces, deleteBeforeReplace: true, reasons };
}

/** `vm: { uuid }` naming the VM the state already points at is the same VM, however it was named before. */
function sameVmByUuid(olds: Record<string, unknown>, newVm: unknown): boolean {
  const uuid = asRecord(newVm)["uuid"];
  return typeof uuid === "string" && !isUnknown(uuid) && uuid === olds["vmUuid"];
}

/**
 * Drift recorded by the last read that the next update changes: the state's `drift` (read from
 * the converge plan, lifecycle/outputs.ts) without its notes; none when the state is not readable.
 */
function repairableDrift(olds: Record<string, unknown>): string[] {
  const drift = olds["drift"];
  const observed = olds["observed"];
  if (!Array.isArray(drift) || observed === null || typeof observed !== "object") return [];
  const inputs = exactInputsSchema().safeParse(
    Object.fromEntries(inputKeys().map((key) => [key, olds[key]])),
  );
  if (!inputs.success) return [];
  const notes = new Set(notesOf(observed as ObservedState, inputs.data));
  return drift.filter((line): line is string => typeof line === "string" && !notes.has(line));
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

/** Deep equality of JSON values; anything unknown is never equal. */
function same(a: unknown, b: unknown): boolean {
  if (containsUnknown(a) || containsUnknown(b)) return false;
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)),
        )
      : v,
  );
}

function describe(value: unknown): string {
  if (isUnknown(value)) return "(unknown)";
  if (value === undefined) return "(unset)";
  return canonical(value);
}
