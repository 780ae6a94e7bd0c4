// The fault matrix's moving parts: one PassthroughDisk on one sandbox disk, driven through the
// real dynamic-provider host as `pulumi up`/`refresh`/`destroy` would, an operation run with a
// fault armed, then retried the way the engine would retry it, then checked on the host: nothing
// leaked, nothing duplicated. Used by tests/host/fault-matrix*.test.ts.
import { HostCallError, listPieces, describePieces } from "xen-sandbox";
import type { ModelOptions, PassthroughPieces, Sandbox } from "xen-sandbox";
import type { Engine, Stored } from "./engine";
import { connectionTo } from "./sandbox";

export type Operation = "create" | "update" | "delete" | "read";
export const OPERATIONS: readonly Operation[] = ["create", "update", "delete", "read"];

type Args = Record<string, unknown>;

export interface MatrixWorld {
  sandbox: Sandbox;
  engine: Engine;
  /** The disk the resource passes through. */
  serial: string;
  /** Connection overrides (e.g. the cut proxy's port). */
  port?: number;
}

/**
 * The sandbox's guests, as PV guests: an update switches the disk to RO, which an HVM guest
 * refuses (xen-api xapi_vbd.ml plug: DISK_VBD_MUST_BE_READWRITE_FOR_HVM).
 */
export const PV_GUESTS = {
  vms: [
    { nameLabel: "media-server", powerState: "Running", guest: "pv" },
    { nameLabel: "archive", powerState: "Halted", guest: "pv" },
  ],
} satisfies ModelOptions;

export function argsFor(world: MatrixWorld, mode: "RW" | "RO"): Args {
  const connection = connectionTo(world.sandbox, world.port === undefined ? {} : { port: world.port });
  return { connection, disk: { serial: world.serial }, vm: { nameLabel: "media-server" }, mode };
}

/** An operation's engine calls for one resource, whose inputs for each operation `argsOf` gives. */
export interface MatrixSteps {
  /** What the operation starts from: nothing for create, a created resource otherwise. */
  setUp: (operation: Operation) => Promise<Stored | undefined>;
  /** The operation itself; its result is what the engine would then hold (undefined: nothing). */
  perform: (operation: Operation, before: Stored | undefined) => Promise<Stored | undefined>;
  /**
   * After a failure, what the engine holds and does next: a create or update that failed with
   * partial state keeps that state (the next `up` updates from it); otherwise the old state stays
   * and the same operation runs again.
   */
  retry: (operation: Operation, before: Stored | undefined, error: unknown) => Promise<Stored | undefined>;
}

/** The engine's calls for each operation, the same for every resource type. */
export function matrixSteps(
  engine: Pick<Engine, "create" | "up" | "destroy" | "refresh">,
  argsOf: (operation: Operation) => Args,
): MatrixSteps {
  const perform = async (operation: Operation, before: Stored | undefined) => {
    switch (operation) {
      case "create":
        return engine.create(argsOf("create"));
      case "update":
        return engine.up(must(before), argsOf("update"));
      case "delete":
        await engine.destroy(must(before));
        return undefined;
      case "read":
        return engine.refresh(must(before));
    }
  };
  return {
    setUp: (operation) =>
      operation === "create" ? Promise.resolve(undefined) : engine.create(argsOf("create")),
    perform,
    retry: (operation, before, error) => {
      const partial = error instanceof HostCallError ? error.initFailure : undefined;
      const held = partial === undefined ? before : { id: partial.id, state: partial.properties };
      if ((operation === "create" || operation === "update") && held !== undefined)
        return engine.up(held, argsOf(operation));
      return perform(operation, held);
    },
  };
}

/** The PassthroughDisk matrix's steps: created RW, updated to RO. */
export const diskSteps = (world: MatrixWorld): MatrixSteps =>
  matrixSteps(world.engine, (operation) => argsFor(world, operation === "update" ? "RO" : "RW"));

/** What is wrong on the host after the operation converged (empty: nothing). */
export async function convergenceProblems(
  world: MatrixWorld,
  operation: Operation,
  after: Stored | undefined,
): Promise<string[]> {
  const pieces = await listPieces(world.sandbox);
  if (operation === "delete") {
    const left = describePieces(pieces);
    return left.length === 0 ? [] : [`left after delete: ${left.join("; ")}`];
  }
  const problems = duplicates(pieces);
  if (after === undefined) return [...problems, "the engine holds no resource after the retry"];
  const refreshed = await world.engine.refresh(after);
  if (refreshed === undefined) return [...problems, "refresh after the retry says the resource is gone"];
  const drift = refreshed.state["drift"];
  if (Array.isArray(drift) && drift.length > 0) problems.push(`drift after the retry: ${drift.join("; ")}`);
  const wantedMode = operation === "update" ? "RO" : "RW";
  if (refreshed.state["mode"] !== wantedMode) problems.push(`mode ${String(refreshed.state["mode"])}`);
  const vbd = pieces.taggedVbds[0];
  if (vbd !== undefined && vbd.uuid !== refreshed.state["vbdUuid"])
    problems.push(`the tagged VBD ${vbd.uuid} is not the state's ${String(refreshed.state["vbdUuid"])}`);
  return problems;
}

/** Exactly one of each piece for the one resource. */
function duplicates(pieces: PassthroughPieces): string[] {
  const counts = {
    rule: pieces.rules.size,
    symlink: pieces.symlinks.size,
    VDI: pieces.vdis.length,
    "tagged VBD": pieces.taggedVbds.length,
  };
  return Object.entries(counts)
    .filter(([, count]) => count !== 1)
    .map(([kind, count]) => `${count} ${kind}s: ${describePieces(pieces).join("; ")}`);
}

/** Removes the resource and checks the host is clean, so the next case starts from nothing. */
export async function tearDown(world: MatrixWorld, stored: Stored | undefined): Promise<string[]> {
  if (stored !== undefined) await world.engine.destroy(stored);
  const left = describePieces(await listPieces(world.sandbox));
  if (left.length === 0) return [];
  // What udevd printed, so a leftover link comes with udev's side of the story.
  const udevd = world.sandbox.udevdOutput().trim() || "nothing";
  return [`left after the final destroy: ${left.join("; ")} (udevd printed: ${udevd})`];
}

/** A failure's message as the user sees it (the host's gRPC details). */
export function messageOf(error: unknown): string {
  if (error instanceof HostCallError) return error.details;
  return error instanceof Error ? error.message : String(error);
}

function must(stored: Stored | undefined): Stored {
  if (stored === undefined) throw new Error("this operation needs a created resource");
  return stored;
}

/** Polls `ready` every 5 ms until it holds, for at most `limitMs`. */
export async function until(ready: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
