// The provider object Pulumi serializes into every PassthroughDisk's state (`__provider`) and
// re-loads in its dynamic-provider host. Everything these methods capture is serialized by
// value, so they capture only a module name: the implementation is loaded by package name at
// run time, from the pulumi-xen-passthrough installed next to the program. No clients, no
// secrets, no environment; the state stays small and never goes stale with old code.
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

/**
 * Loads the implementation by package name (resolved from the program's node_modules). A
 * run-time require, not an import: an import would be serialized with the provider.
 */
function lifecycle(): Lifecycle {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("pulumi-xen-passthrough/dist/lifecycle/index.js") as Lifecycle;
}

/** The serialized provider of PassthroughDisk: each method delegates to the lifecycle module. */
export const passthroughDiskProvider: dynamic.ResourceProvider = {
  configure: (request) => lifecycle().configure(request),
  check: (olds: Record<string, unknown>, news: Record<string, unknown>) => lifecycle().check(olds, news),
  diff: (id, olds: Record<string, unknown>, news: Record<string, unknown>) =>
    lifecycle().diff(id, olds, news),
  create: (inputs: Record<string, unknown>) => lifecycle().create(inputs),
  read: (id, props?: Record<string, unknown>) => lifecycle().read(id, props ?? {}),
  update: (id, olds: Record<string, unknown>, news: Record<string, unknown>) =>
    lifecycle().update(id, olds, news),
  delete: (id, props: Record<string, unknown>) => lifecycle().delete(id, props),
};
