// The provider object Pulumi serializes into every PassthroughDisk's state (`__provider`) and
// re-loads in its dynamic-provider host. Everything these methods capture is serialized by
// value, so they capture only this package's version: the implementation is loaded by package
// name at run time, from the pulumi-xen-passthrough installed next to the program. No clients,
// no secrets, no environment; the state stays small and never goes stale with old code.
import type * as fs from "node:fs";
import type { dynamic } from "@pulumi/pulumi";

/** What provider/src/lifecycle/index.ts exports: one function per provider method. */
export interface Lifecycle {
  configure(request: dynamic.ConfigureRequest): Promise<void>;
  check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<dynamic.CheckResult>;
  diff(id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<dynamic.DiffResult>;
  create(inputs: Record<string, unknown>): Promise<dynamic.CreateResult>;
  read(id: string, props: Record<string, unknown>): Promise<dynamic.ReadResult>;
  update(
    id: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<dynamic.UpdateResult>;
  delete(id: string, props: Record<string, unknown>): Promise<void>;
}

/* eslint-disable @typescript-eslint/no-require-imports -- run-time requires, see lifecycle() */
// The version of the copy the program declared its resources with (captured by value).
const DECLARED = (require("../package.json") as { version: string }).version;

/** The resource type whose lifecycle module to load (package.json exports "./lifecycle", "./lifecycle/usb"). */
type ResourceKind = "disk" | "usb";

/**
 * Loads the implementation by package name, resolved from the program's directory (the host's
 * working directory). A run-time require, not an import: an import would be serialized with the
 * provider. Comments inside are serialized too: none there. `fromProgram`: check, diff, create
 * and update run the program's own declaration and refuse another loaded version; read and
 * delete run the one stored in the state, older after an upgrade. `kind`: each resource type
 * loads only its own lifecycle module.
 */
function lifecycle(fromProgram: boolean, kind: ResourceKind = "disk"): Lifecycle {
  const name = "pulumi-xen-passthrough";
  const dir = process.cwd();
  const fix = `Fix: \`npm install ${name}@${DECLARED}\` in the program's directory`;
  let loaded: Lifecycle;
  let version: string;
  try {
    loaded = (
      kind === "usb"
        ? require("pulumi-xen-passthrough/lifecycle/usb")
        : require("pulumi-xen-passthrough/lifecycle")
    ) as Lifecycle;
    version = (require("pulumi-xen-passthrough/package.json") as { version: string }).version;
  } catch (error) {
    const has = (path: string) => (require("node:fs") as typeof fs).existsSync(`${dir}/${path}`);
    const cause = has(".pnp.cjs")
      ? "Yarn Plug'n'Play has no node_modules (set nodeLinker: node-modules)"
      : has(`node_modules/${name}`)
        ? "the copy installed there is another version, without this entry point"
        : has("node_modules/.pnpm")
          ? "pnpm links only the program's direct dependencies (add it to its package.json)"
          : "it is not installed there (a bundled program must keep it external)";
    throw new Error(
      `${name} cannot be loaded from ${dir}: ${cause}. ${fix}. (${String(error).split("\n")[0]})`,
    );
  }
  if (fromProgram && version !== DECLARED) {
    throw new Error(
      `${name}: the program declared this resource with ${DECLARED}, but ${dir} holds ${version}: ` +
        `the program uses another copy, nested in node_modules. ${fix}, then \`npm dedupe\`.`,
    );
  }
  return loaded;
}

/** The serialized provider of PassthroughDisk: each method delegates to the lifecycle module. */
export const passthroughDiskProvider: dynamic.ResourceProvider = {
  configure: (request) => lifecycle(false).configure(request),
  check: (olds: Record<string, unknown>, news: Record<string, unknown>) => lifecycle(true).check(olds, news),
  diff: (id, olds: Record<string, unknown>, news: Record<string, unknown>) =>
    lifecycle(true).diff(id, olds, news),
  create: (inputs: Record<string, unknown>) => lifecycle(true).create(inputs),
  read: (id, props?: Record<string, unknown>) => lifecycle(false).read(id, props ?? {}),
  update: (id, olds: Record<string, unknown>, news: Record<string, unknown>) =>
    lifecycle(true).update(id, olds, news),
  delete: (id, props: Record<string, unknown>) => lifecycle(false).delete(id, props),
};

/** The serialized provider of PassthroughUsb: the same, over the USB lifecycle module. */
export const passthroughUsbProvider: dynamic.ResourceProvider = {
  configure: (request) => lifecycle(false, "usb").configure(request),
  check: (olds: Record<string, unknown>, news: Record<string, unknown>) =>
    lifecycle(true, "usb").check(olds, news),
  diff: (id, olds: Record<string, unknown>, news: Record<string, unknown>) =>
    lifecycle(true, "usb").diff(id, olds, news),
  create: (inputs: Record<string, unknown>) => lifecycle(true, "usb").create(inputs),
  read: (id, props?: Record<string, unknown>) => lifecycle(false, "usb").read(id, props ?? {}),
  update: (id, olds: Record<string, unknown>, news: Record<string, unknown>) =>
    lifecycle(true, "usb").update(id, olds, news),
  delete: (id, props: Record<string, unknown>) => lifecycle(false, "usb").delete(id, props),
};
