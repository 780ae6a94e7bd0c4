// diff of PassthroughUsb without I/O: from the stored state and the checked new inputs.
import type { DiffPlan } from "./diff-plan.js";
import { isUnknown } from "./unknown.js";

/**
 * The same plan as PassthroughDisk's diff; `replaces` is "connection" when the host changes.
 * Replace when the host (connection host or port) changes: the old pieces stay on the old host
 * otherwise. Update when the device, the VM or any other input changes (update converges:
 * the old VUSB goes, the new one is made), or the refreshed state shows drift.
 */
export function planUsbDiff(olds: Record<string, unknown>, news: Record<string, unknown>): DiffPlan {
  const reasons: string[] = [];
  const replaces: string[] = [];
  const oldConnection = record(olds["connection"]);
  const newConnection = news["connection"];
  const hostOf = (c: Record<string, unknown>) => JSON.stringify([c["host"], c["port"]]);
  if (isUnknown(newConnection) || hostOf(oldConnection) !== hostOf(record(newConnection))) {
    replaces.push("connection");
    reasons.push("connection: another host (host or port changed)");
  }
  for (const key of ["device", "vm"]) {
    if (!same(olds[key], news[key]))
      reasons.push(`${key}: ${JSON.stringify(olds[key])} -> ${JSON.stringify(news[key])}`);
  }
  for (const key of ["connection", "xapi", "owner"]) {
    if (!replaces.includes(key) && !same(olds[key], news[key])) reasons.push(`${key}: changed`);
  }
  const drift = Array.isArray(olds["drift"]) ? (olds["drift"] as unknown[]) : [];
  for (const line of drift) reasons.push(`drift: ${String(line)}`);
  return { changes: reasons.length > 0, replaces, deleteBeforeReplace: true, reasons };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

/** Deep equality of JSON-like values, key order ignored. */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, sorted(v)]),
  );
}
