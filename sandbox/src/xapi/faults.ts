/** A XAPI failure exactly as it goes on the wire: an error code and string parameters. */
export interface XapiFault {
  code: string;
  params: string[];
}

/** What every handler returns: a value or a typed fault (never a thrown string). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; fault: XapiFault };

export function ok<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function fail(code: string, ...params: string[]): { ok: false; fault: XapiFault } {
  return { ok: false, fault: { code, params } };
}

/** Upstream error codes used by the simulator, with the parameter order XAPI uses. */
export const Faults = {
  methodUnknown: (method: string) => fail("MESSAGE_METHOD_UNKNOWN", method),
  /** Async.<call> of a call with no Async form (xen-api server_helpers.ml do_dispatch). */
  noAsyncMode: (method: string) => fail("Fault", `No async mode for this operation (rpc: ${method})`),
  parameterCountMismatch: (method: string, expected: number, received: number) =>
    fail("MESSAGE_PARAMETER_COUNT_MISMATCH", method, String(expected), String(received)),
  handleInvalid: (cls: string, ref: string) => fail("HANDLE_INVALID", cls, ref),
  uuidInvalid: (cls: string, uuid: string) => fail("UUID_INVALID", cls, uuid),
  sessionInvalid: (ref: string) => fail("SESSION_INVALID", ref),
  authenticationFailed: (user: string) =>
    fail("SESSION_AUTHENTICATION_FAILED", user, "Authentication failure"),
  hostIsSlave: (master: string) => fail("HOST_IS_SLAVE", master),
  hostStillBooting: () => fail("HOST_STILL_BOOTING"),
  fieldTypeError: (field: string) => fail("FIELD_TYPE_ERROR", field),
  mapDuplicateKey: (cls: string, field: string, ref: string, key: string) =>
    fail("MAP_DUPLICATE_KEY", cls, field, ref, key),
  vmBadPowerState: (vm: string, expected: string, actual: string) =>
    fail("VM_BAD_POWER_STATE", vm, expected, actual),
  deviceAlreadyAttached: (vbd: string) => fail("DEVICE_ALREADY_ATTACHED", vbd),
  deviceAlreadyDetached: (vbd: string) => fail("DEVICE_ALREADY_DETACHED", vbd),
  deviceAlreadyExists: (device: string) => fail("DEVICE_ALREADY_EXISTS", device),
  invalidDevice: (device: string) => fail("INVALID_DEVICE", device),
  vbdNotUnpluggable: (vbd: string) => fail("VBD_NOT_UNPLUGGABLE", vbd),
  vdiInUse: (vdi: string, ...details: string[]) => fail("VDI_IN_USE", vdi, ...details),
  operationNotAllowed: (reason: string) => fail("OPERATION_NOT_ALLOWED", reason),
  locationNotUnique: (sr: string, location: string) => fail("LOCATION_NOT_UNIQUE", sr, location),
  srOperationNotSupported: (sr: string) => fail("SR_OPERATION_NOT_SUPPORTED", sr),
  /** xen-api api_errors.ml: the OCaml name is sr_no_pbds, the code on the wire SR_HAS_NO_PBDS. */
  srHasNoPbds: (sr: string) => fail("SR_HAS_NO_PBDS", sr),
  eventsLost: () => fail("EVENTS_LOST"),
  internalError: (message: string) => fail("INTERNAL_ERROR", message),
} as const;
