// Pulumi previews send values that are not known yet as this sentinel string (the engine's
// `UnknownStringValue`). check and diff must tolerate it anywhere in the inputs.

/** The string the engine puts where a value is not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when the value is the preview "unknown" sentinel. */
export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

/** True when the sentinel occurs anywhere in the value (objects and arrays searched deeply). */
export function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}
