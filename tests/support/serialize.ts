// The real `__provider` string of a PassthroughDisk, produced by the Pulumi SDK's own serializer
// in a separate Node process (xen-sandbox's serialize-program), outside Jest's module system.
import { join } from "node:path";
import { serializeResource } from "xen-sandbox";
import type { SerializedResource } from "xen-sandbox";

export { asEngineSendsThem } from "xen-sandbox";
export type { SerializedResource } from "xen-sandbox";

const REPO_ROOT = join(__dirname, "..", "..", "..");

/** Declares one PassthroughDisk with these arguments (JSON-able) and returns what the engine gets. */
export function serializePassthroughDisk(args: Record<string, unknown>): Promise<SerializedResource> {
  return serializeResource(args, { packageName: "pulumi-xen-passthrough", cwd: REPO_ROOT });
}
