// The provider methods as the dynamic-provider host calls them (through the serialized provider,
// provider/src/serialized-provider.ts, which loads this module by package name at run time).
// check and diff are pure; create, read, update and delete talk to the host.
//
// One create, file by file: converge.ts -> connect.ts (connect, look: dom0/inventory.ts and
// xapi/snapshot.ts, shared per host by host-batches.ts) -> look/host-view.ts (what was seen) ->
// core/converge-plan.ts (refusals in core/refusals.ts, then the plan: core/plan.ts) -> apply.ts
// (release, dom0 as one dom0-request.ts request, attach: xapi-steps.ts) -> after-apply.ts ->
// outputs.ts (drift read from the plan: core/drift.ts). On failure, changes.ts says what was
// changed: core/rollback-plan.ts plans the undo and apply.ts runs it, or partial state is kept.
// delete is the same: core/remove-plan.ts, then apply.ts (docs/architecture.md).
import type { dynamic } from "@pulumi/pulumi";
import { checkInputs, parseInputs } from "../core/check.js";
import { PartialResourceError } from "../core/errors.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { MIGRATING_FROM } from "../core/owner.js";
import { dialHostFirst } from "./dial-first.js";
import { progressLog } from "./progress.js";

export { diff } from "./diff.js";

// The parts that talk to the host (ssh2, xen-api and their dependencies) load on first use:
// previews run only check and diff, and the process start-up is part of every operation's time.
// Every host operation first waits for its SSH connection (the host's sshd takes about 100 ms to
// answer): dialFirst starts it before the operation's other modules load, in that wait.
const converging = () => import("./converge.js");
const connecting = () => import("./connect.js");
const outputs = () => import("./outputs.js");
const removing = () => import("./remove.js");

/** Stack config (configure.ts); without a direct XAPI URL there is nothing to load or set. */
export async function configure(request: dynamic.ConfigureRequest): Promise<void> {
  if (request.config.get("xen-passthrough:xapiUrl") === undefined && !connectLoaded) return;
  connectLoaded = true;
  await (await import("./configure.js")).configure(request);
}
let connectLoaded = false;

/** Validates and defaults the inputs; failures name the property and what is allowed. Pure (previews run it offline). */
export function check(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<dynamic.CheckResult> {
  const { inputs, failures } = checkInputs(olds ?? {}, news ?? {});
  return Promise.resolve(failures.length === 0 ? { inputs } : { inputs, failures });
}

/** The host's SSH connection first, the operation's own modules once it is on its way. */
async function dialFirst(inputs: PassthroughDiskInputs): Promise<void> {
  connectLoaded = true;
  await dialHostFirst(inputs.connection, progressLog(inputs));
}

export async function create(props: Record<string, unknown>): Promise<dynamic.CreateResult> {
  const inputs = parseInputs(props);
  await dialFirst(inputs);
  const { converge } = await converging();
  const { id, state } = await keepingProvider(props, converge(inputs, { rollbackEarly: true }));
  return { id, outs: state };
}

/** Refresh: reports what is on the host now; drift shows in `observed` and `drift`. */
export async function read(id: string, props: Record<string, unknown>): Promise<dynamic.ReadResult> {
  const inputs = parseInputs(props);
  await dialFirst(inputs);
  const [{ connectAndLook }, { anythingOurs, kernelNameToRecord, stateFromView }] = await Promise.all([
    connecting(),
    outputs(),
  ]);
  // A migration cut short (converge.ts) stays recorded until an update finishes it.
  const migrating = props[MIGRATING_FROM];
  const previous = typeof migrating === "string" ? { owner: migrating } : undefined;
  const { view } = await connectAndLook(inputs, progressLog(inputs), previous);
  // Nothing of ours left at all: the resource is gone (the next `pulumi up` creates it again).
  if (!anythingOurs(view)) return { id: "" };
  const recordedKernelName = typeof props["kernelName"] === "string" ? props["kernelName"] : "";
  const kernelName = kernelNameToRecord(view, inputs, recordedKernelName);
  const state = stateFromView(view, inputs, kernelName);
  return { id, props: previous === undefined ? state : { ...state, [MIGRATING_FROM]: migrating } };
}

/**
 * The old state's owner is this resource too (a rename, an alias, or a state of an earlier
 * version, which names none): update takes its pieces over (claim, rule and VBD re-marked).
 */
export async function update(
  _id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<dynamic.UpdateResult> {
  const inputs = parseInputs(news);
  await dialFirst(inputs);
  const { converge, previousOwnerOf } = await converging();
  const previous = previousOwnerOf(olds);
  const { state } = await keepingProvider(news, converge(inputs, { rollbackEarly: false, previous }));
  return { outs: state };
}

/**
 * The dynamic-provider host adds `__provider` to the outputs of a success, not to the state a
 * PartialResourceError carries: without it there, the resource could never be deleted.
 */
async function keepingProvider<T>(props: Record<string, unknown>, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof PartialResourceError) error.properties["__provider"] = props["__provider"];
    throw error;
  }
}

async function remove(_id: string, props: Record<string, unknown>): Promise<void> {
  const migrating = props[MIGRATING_FROM];
  const inputs = parseInputs(props);
  await dialFirst(inputs);
  const { removePassthrough } = await removing();
  await removePassthrough(inputs, typeof migrating === "string" ? { owner: migrating } : undefined);
}
export { remove as delete };
