import type { XapiFault } from "../faults";
import { XapiFloat, XapiInt32, formatXapiDate, isStruct } from "../values";
import type { XapiValue } from "../values";

/** The JSON-RPC content type, exactly (the xen-api client falls back to XML-RPC on anything else). */
export const JSON_CONTENT_TYPE = "application/json";

/** XAPI sets error.code to 1 on every failure (clients must read `message` and `data`). */
const XAPI_FAILURE_CODE = 1;

export interface JsonRpcRequest {
  version: "1.0" | "2.0";
  id: unknown;
  method: string;
  params: unknown[];
}

export class JsonRpcDecodeError extends Error {
  override name = "JsonRpcDecodeError";
}

export function decodeJsonRpcCall(body: string): JsonRpcRequest {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch (cause) {
    throw new JsonRpcDecodeError("request body is not valid JSON", { cause });
  }
  if (!isStruct(message) || typeof (message as Record<string, unknown>)["method"] !== "string") {
    throw new JsonRpcDecodeError("request is not a JSON-RPC call object with a method");
  }
  const request = message as Record<string, unknown>;
  // As XAPI does: positional params; a single object stands for one struct parameter.
  const raw = request["params"] ?? [];
  if (!Array.isArray(raw) && !isStruct(raw))
    throw new JsonRpcDecodeError("params must be an array or an object");
  const params: unknown[] = Array.isArray(raw) ? raw : [raw];
  return {
    version: request["jsonrpc"] === "2.0" ? "2.0" : "1.0",
    id: request["id"] ?? null,
    method: request["method"] as string,
    params,
  };
}

/** XAPI's JSON typing: ints and floats are numbers, dates strings in XAPI's basic ISO form. */
function toJson(value: XapiValue): unknown {
  if (value instanceof XapiFloat || value instanceof XapiInt32) return value.value;
  if (value instanceof Date) return formatXapiDate(value);
  if (Array.isArray(value)) return value.map(toJson);
  if (isStruct(value))
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, toJson(entry)]));
  return value;
}

export function encodeJsonRpcSuccess(
  request: Pick<JsonRpcRequest, "version" | "id">,
  value: XapiValue,
): string {
  const result = toJson(value);
  return JSON.stringify(
    request.version === "2.0"
      ? { jsonrpc: "2.0", result, id: request.id }
      : { result, error: null, id: request.id },
  );
}

export function encodeJsonRpcFailure(
  request: Pick<JsonRpcRequest, "version" | "id">,
  fault: XapiFault,
): string {
  // JSON-RPC 1.0 callers get XAPI's bare [code, ...params] array, 2.0 callers an error object.
  return JSON.stringify(
    request.version === "2.0"
      ? {
          jsonrpc: "2.0",
          error: { code: XAPI_FAILURE_CODE, message: fault.code, data: fault.params },
          id: request.id,
        }
      : { result: null, error: [fault.code, ...fault.params], id: request.id },
  );
}

/** A malformed request (not a XAPI failure): JSON-RPC's own parse/invalid-request errors. */
export function encodeJsonRpcProtocolError(message: string): string {
  return JSON.stringify({ jsonrpc: "2.0", error: { code: -32700, message }, id: null });
}
