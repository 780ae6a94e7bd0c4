// The real `__provider` string of a PassthroughDisk, produced by the Pulumi SDK's own serializer
// in a separate Node process (serialize-program.ts), outside Jest's module system.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

/** What the engine would receive for one PassthroughDisk: its type and inputs, `__provider` included. */
export interface SerializedResource {
  readonly type: string;
  readonly inputs: Record<string, unknown>;
  /** The serialized provider (inputs.__provider). */
  readonly provider: string;
}

/** Declares one PassthroughDisk with these arguments (JSON-able) and returns what the engine gets. */
export async function serializePassthroughDisk(args: Record<string, unknown>): Promise<SerializedResource> {
  const program = join(__dirname, "serialize-program.js");
  const { stdout } = await promisify(execFile)(process.execPath, [program, JSON.stringify(args)], {
    cwd: join(__dirname, "..", "..", ".."),
    maxBuffer: 16 * 1024 * 1024,
  });
  const lastLine = stdout.trim().split("\n").pop() ?? "";
  const captured = JSON.parse(lastLine) as { type: string; inputs: Record<string, unknown> };
  const provider = captured.inputs["__provider"];
  if (typeof provider !== "string") throw new Error(`no __provider string among the inputs: ${lastLine.slice(0, 200)}`);
  return { type: captured.type, inputs: captured.inputs, provider };
}
