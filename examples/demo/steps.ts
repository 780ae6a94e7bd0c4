// The demo's steps, each what one Pulumi command does to the homelab stack, over the real
// dynamic-provider host (through xen-sandbox's engine), printed as Pulumi prints it. The
// sandbox is looked at only to show what happened on the host (trace, sessions, VBDs, files).
import type { Engine, Sandbox, Stored } from "xen-sandbox";

import { DemoError } from "./errors";
import type { DeclaredResource, HomelabStack } from "./homelab";
import { STACK } from "./homelab";
import type { ResourceLine } from "./print";
import { outputsBlock, resourceLine, resourcesSummary, stepText } from "./print";

export interface DemoContext {
  readonly sandbox: Sandbox;
  readonly stack: HomelabStack;
  /** The engine (host + serialized provider) of each resource, by name. */
  readonly engines: ReadonlyMap<string, Engine>;
  /** The checkpoint: each resource's id and outputs, by name. */
  readonly checkpoint: Map<string, Stored>;
  print(text: string): void;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

function engineOf(context: DemoContext, resource: DeclaredResource): Engine {
  const engine = context.engines.get(resource.name);
  if (engine === undefined) throw new Error(`no engine for ${resource.name}`);
  return engine;
}

function storedOf(context: DemoContext, resource: DeclaredResource): Stored {
  const stored = context.checkpoint.get(resource.name);
  if (stored === undefined) throw new Error(`${resource.name} is not in the checkpoint`);
  return stored;
}

function driftOf(stored: Stored): string[] {
  const drift = stored.state["drift"];
  return Array.isArray(drift) ? drift.map((message) => `drift: ${String(message)}`) : [];
}

const line = (resource: DeclaredResource, rest: Omit<ResourceLine, "type" | "name">): string =>
  resourceLine({ type: resource.type, name: resource.name, ...rest });

/** `pulumi preview`: Check of every new resource, and proof that the host was not touched. */
export async function preview(context: DemoContext): Promise<void> {
  const { sandbox, stack } = context;
  const trace = sandbox.simulator.control.trace;
  trace.reset();
  const sessions = sandbox.sshSessions();
  const connections = sandbox.sshConnections();
  const { value: lines, ms } = await timed(() =>
    Promise.all(
      stack.resources.map(async (resource) => {
        await engineOf(context, resource).previewCreate(resource.args);
        return line(resource, { symbol: "+", verb: "create" });
      }),
    ),
  );
  const calls = trace.get().calls.length;
  const newSessions = sandbox.sshSessions() - sessions;
  const newConnections = sandbox.sshConnections() - connections;
  const untouched =
    `Host untouched: ${calls} XAPI calls in the simulator's trace, ` +
    `${newConnections} new SSH connections, ${newSessions} new SSH sessions.`;
  context.print(
    stepText(
      `Previewing update (${STACK})`,
      lines,
      [resourcesSummary([["+", lines.length, "to create"]]), untouched],
      ms,
    ),
  );
  if (calls !== 0 || newSessions !== 0 || newConnections !== 0) {
    throw new DemoError(
      "PREVIEW_TOUCHED_HOST",
      { calls: String(calls), sessions: String(newSessions) },
      `preview touched the host (${untouched}): Check must not call XAPI or open SSH sessions`,
    );
  }
}

/** `pulumi up` of the new stack: Check and Create of every resource, in parallel as the engine does. */
export async function create(context: DemoContext): Promise<void> {
  const { stack } = context;
  const { value: created, ms } = await timed(() =>
    Promise.all(
      stack.resources.map(async (resource) => {
        const { value: stored, ms: took } = await timed(() =>
          engineOf(context, resource).create(resource.args),
        );
        context.checkpoint.set(resource.name, stored);
        return { resource, stored, took };
      }),
    ),
  );
  const outputs = created.map(({ resource, stored }) => ({
    name: resource.name,
    fields: {
      device: stored.state["device"],
      kernelName: stored.state["kernelName"],
      symlinkPath: stored.state["symlinkPath"],
      vbdUuid: stored.state["vbdUuid"],
      currentlyAttached: stored.state["currentlyAttached"],
    },
  }));
  context.print(
    stepText(
      `Updating (${STACK})`,
      created.map(({ resource, took }) => line(resource, { symbol: "+", verb: "created", ms: took })),
      [outputsBlock(outputs), resourcesSummary([["+", created.length, "created"]])],
      ms,
    ),
  );
}

/** A change behind Pulumi's back: one VBD unplugged through the simulator's control surface. */
export function unplugBehindPulumisBack(context: DemoContext): DeclaredResource {
  const [victim] = context.stack.resources;
  if (victim === undefined) throw new Error("the homelab program declared no disk");
  const vbd = String(storedOf(context, victim).state["vbdUuid"]);
  context.sandbox.simulator.control.drift.unplugVbd(vbd);
  context.print(
    [
      "Meanwhile, behind Pulumi's back:",
      `    VBD ${vbd} of ${victim.name} unplugged (simulator control surface, as \`xe vbd-unplug\` would)`,
      "",
    ].join("\n"),
  );
  return victim;
}

/** `pulumi refresh`: Read of every resource; the drifted one shows why. */
export async function refresh(context: DemoContext, drifted: DeclaredResource): Promise<void> {
  const { stack } = context;
  const { value: results, ms } = await timed(() =>
    Promise.all(
      stack.resources.map(async (resource) => {
        const { value: stored, ms: took } = await timed(() =>
          engineOf(context, resource).refresh(storedOf(context, resource)),
        );
        if (stored === undefined) context.checkpoint.delete(resource.name);
        else context.checkpoint.set(resource.name, stored);
        return { resource, stored, took };
      }),
    ),
  );
  const lines = results.map(({ resource, stored, took }) => {
    if (stored === undefined)
      return line(resource, { symbol: "-", verb: "deleted (gone from the host)", ms: took });
    const drift = driftOf(stored);
    return line(resource, { symbol: drift.length > 0 ? "~" : " ", verb: "refresh", notes: drift, ms: took });
  });
  const changed = results.filter(({ stored }) => stored === undefined || driftOf(stored).length > 0).length;
  context.print(
    stepText(
      `Refreshing (${STACK})`,
      lines,
      [
        resourcesSummary([
          ["~", changed, "changed behind Pulumi's back"],
          [" ", results.length - changed, "unchanged"],
        ]),
      ],
      ms,
    ),
  );
  const shown = context.checkpoint.get(drifted.name);
  if (shown === undefined || !driftOf(shown).some((note) => note.includes("unplugged"))) {
    throw new DemoError(
      "DRIFT_NOT_SHOWN",
      { resource: drifted.name },
      `refresh did not report the unplugged VBD of ${drifted.name} as drift`,
    );
  }
}

/** `pulumi up` after the refresh: Check and Diff of every resource; Update of the drifted one. */
export async function repair(context: DemoContext, drifted: DeclaredResource): Promise<void> {
  const { stack, sandbox } = context;
  const { value: results, ms } = await timed(() =>
    Promise.all(
      stack.resources.map(async (resource) => {
        const before = storedOf(context, resource);
        const { value: result, ms: took } = await timed(() =>
          engineOf(context, resource).upWithPlan(before, resource.args),
        );
        context.checkpoint.set(resource.name, result.stored);
        return { resource, before, result, took };
      }),
    ),
  );
  const lines = results.flatMap(({ resource, before, result, took }) => {
    const notes = driftOf(before);
    if (result.operation === "update")
      return [line(resource, { symbol: "~", verb: "updated", notes, ms: took })];
    if (result.operation === "replace") {
      return [
        line(resource, {
          symbol: "~",
          verb: `replaced (${result.diff.replaces.join(", ")})`,
          notes,
          ms: took,
        }),
      ];
    }
    return [];
  });
  const count = (operation: string) => results.filter(({ result }) => result.operation === operation).length;
  const vbd = String(storedOf(context, drifted).state["vbdUuid"]);
  const record = sandbox.simulator.control.state().vbds.find((candidate) => candidate.uuid === vbd);
  const confirmed = `The simulator confirms: VBD ${vbd} is ${record?.currentlyAttached === true ? "attached again" : "still not attached"}.`;
  context.print(
    stepText(
      `Updating (${STACK})`,
      lines,
      [
        resourcesSummary([
          ["~", count("update"), "updated"],
          ["+-", count("replace"), "replaced"],
          [" ", count("same"), "unchanged"],
        ]),
        confirmed,
      ],
      ms,
    ),
  );
  if (record?.currentlyAttached !== true) {
    throw new DemoError("NOT_REPAIRED", { vbd }, `up did not plug VBD ${vbd} of ${drifted.name} back in`);
  }
}

/** `pulumi destroy`: Delete of every resource, then a look at what is left on the host. */
export async function destroy(context: DemoContext): Promise<void> {
  const { stack, sandbox } = context;
  const { value: results, ms } = await timed(() =>
    Promise.all(
      stack.resources.map(async (resource) => {
        const stored = storedOf(context, resource);
        const { ms: took } = await timed(() => engineOf(context, resource).destroy(stored));
        context.checkpoint.delete(resource.name);
        return { resource, stored, took };
      }),
    ),
  );
  const ids = new Set(results.map(({ stored }) => stored.id));
  const vbds = sandbox.simulator.control
    .state()
    .vbds.filter((vbd) => ids.has(vbd.otherConfig["xen-passthrough"] ?? "")).length;
  const paths = results.flatMap(({ stored }) => [stored.state["rulePath"], stored.state["symlinkPath"]]);
  const files = (
    await Promise.all(
      paths.map(async (path) => (await sandbox.exec(`test -e '${String(path)}'`)).exitCode === 0),
    )
  ).filter(Boolean).length;
  const left = `Left on the host: ${vbds} passthrough VBDs, ${files} udev rules or /dev/xapi/block links.`;
  context.print(
    stepText(
      `Destroying (${STACK})`,
      results.map(({ resource, took }) => line(resource, { symbol: "-", verb: "deleted", ms: took })),
      [resourcesSummary([["-", results.length, "deleted"]]), left],
      ms,
    ),
  );
  if (vbds !== 0 || files !== 0) {
    throw new DemoError(
      "LEFT_BEHIND",
      { vbds: String(vbds), files: String(files) },
      `destroy left things behind: ${left}`,
    );
  }
}
