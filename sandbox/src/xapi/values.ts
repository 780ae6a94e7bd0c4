import { randomUUID } from "node:crypto";

/**
 * A XAPI value as handlers produce and consume it. Integers are JS numbers (XML-RPC sends
 * them as decimal strings, JSON-RPC as numbers); `float` fields are wrapped in XapiFloat so
 * the XML-RPC codec can tell `<double>` from an int; datetimes are Date.
 */
export type XapiValue = string | number | boolean | Date | XapiFloat | XapiInt32 | XapiValue[] | XapiStruct;
export interface XapiStruct {
  [key: string]: XapiValue;
}

/** A XAPI `float`: kept apart from `int` because the two differ on the XML-RPC wire. */
export class XapiFloat {
  constructor(readonly value: number) {}
}

/**
 * An OCaml int32 in a reply (event.from's valid_ref_counts): XML-RPC sends it as `<i4>`, unlike
 * XAPI's int64 fields, which go as bare decimal strings (mirage/ocaml-rpc `xmlrpc.ml` add_value).
 */
export class XapiInt32 {
  constructor(readonly value: number) {}
}

/**
 * A deep copy of a value that keeps XapiFloat, XapiInt32 and Date instances (structuredClone
 * would turn the first two into plain {value} structs).
 */
export function cloneValue<T extends XapiValue>(value: T): T {
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof XapiFloat || value instanceof XapiInt32) return value;
  if (Array.isArray(value)) return value.map((entry) => cloneValue(entry)) as T;
  if (typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, cloneValue(entry)])) as T;
  return value;
}

/** XAPI's DateTime text form: basic ISO 8601 in UTC without separators in the date, e.g. 20260101T10:00:00Z. */
export function formatXapiDate(date: Date): string {
  const iso = date.toISOString(); // 2026-01-01T10:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 19)}Z`;
}

/** The epoch date XAPI shows for "never" (e.g. an unfinished task's `finished`). */
export const NEVER = new Date(0);

export function newRef(): string {
  return `OpaqueRef:${randomUUID()}`;
}

export function newUuid(): string {
  return randomUUID();
}

/** XAPI's null reference, used for unset ref fields. */
export const NULL_REF = "OpaqueRef:NULL";

export function isStruct(value: unknown): value is XapiStruct {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof XapiFloat) &&
    !(value instanceof XapiInt32) &&
    !Buffer.isBuffer(value)
  );
}

/** Reads an `int` parameter: XML-RPC clients send decimal strings, JSON-RPC clients numbers. */
export function asInt(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
  return undefined;
}

export function asFloat(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (value instanceof XapiFloat) return value.value;
  if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  return undefined;
}

/** Reads a `bool` parameter (XML-RPC `<boolean>`, JSON true/false, or the strings some clients send). */
export function asBool(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  return undefined;
}

/** Reads a `(string -> string) map` parameter. */
export function asStringMap(value: unknown): Record<string, string> | undefined {
  if (!isStruct(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== "string") return undefined;
    out[key] = entry;
  }
  return out;
}

/** Reads a `string` (or `ref`/enum) parameter or field; anything else reads as "" (an invalid value). */
export function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return "";
}
