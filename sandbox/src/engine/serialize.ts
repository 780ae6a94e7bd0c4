// The real `__provider` string of a dynamic resource, produced by the Pulumi SDK's own serializer
// in a separate Node process (serialize-program.ts), outside the caller's module system (Jest's).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

import type { SerializeRequest } from "./serialize-program";

/** What the engine would receive for one resource: its type and inputs, `__provider` included. */
export interface SerializedResource {
  readonly type: string;
  readonly inputs: Record<string, unknown>;
  /** The serialized provider (inputs.__provider). */
  readonly provider: string;
}

export interface SerializeOptions {
  /** The provider package (name or path), e.g. "pulumi-xen-passthrough". */
  readonly packageName: string;
  /** Its resource class. Default "PassthroughDisk". */
  readonly exportName?: string;
  /** The resource's name. Default "disk". */
  readonly resourceName?: string;
  /** The program directory the package is resolved from (as under `pulumi up`). */
  readonly cwd: string;
}

/** Declares one resource with these arguments (JSON-able) and returns what the engine gets. */
export async function serializeResource(
  args: Record<string, unknown>,
  options: SerializeOptions,
): Promise<SerializedResource> {
  const request: SerializeRequest = {
    packageName: options.packageName,
    exportName: options.exportName ?? "PassthroughDisk",
    resourceName: options.resourceName ?? "disk",
    args,
  };
  const program = join(__dirname, "serialize-program.js");
  const { stdout } = await promisify(execFile)(process.execPath, [program, JSON.stringify(request)], {
    cwd: options.cwd,
    maxBuffer: 16 * 1024 * 1024,
  });
  const lastLine = stdout.trim().split("\n").pop() ?? "";
  const captured = JSON.parse(lastLine) as { type: string; inputs: Record<string, unknown> };
  const provider = captured.inputs["__provider"];
  if (typeof provider !== "string")
    throw new Error(`no __provider string among the inputs: ${lastLine.slice(0, 200)}`);
  return { type: captured.type, inputs: captured.inputs, provider };
}

/** The SDK's marker of a secret value inside serialized properties. */
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/**
 * The inputs as the engine hands them to a dynamic provider: secrets unwrapped (the host
 * declares it does not accept secrets), everything else as registered.
 */
export function asEngineSendsThem(value: unknown): Record<string, unknown> {
  return unwrap(value) as Record<string, unknown>;
}

function unwrap(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrap);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[SECRET_SIGNATURE] === SECRET_VALUE) return unwrap(record["value"]);
  return Object.fromEntries(Object.entries(record).map(([key, v]) => [key, unwrap(v)]));
}
