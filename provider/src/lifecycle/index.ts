// The provider methods as the dynamic-provider host calls them (through provider/src/shell.ts).
// check and diff are pure; create, read, update and delete talk to the host.
import type { dynamic } from "@pulumi/pulumi";
import { parseInputs } from "../core/check.js";
import { converge } from "./converge.js";
import { connect, progressLog } from "./access.js";
import { observe } from "./observe.js";
import { removePassthrough } from "./remove.js";
import { anythingOurs, stateFromView } from "./state.js";

export { check } from "./check.js";
export { diff } from "./diff.js";
export { configure } from "./configure.js";

export async function create(props: Record<string, unknown>): Promise<dynamic.CreateResult> {
  const { id, state } = await converge(parseInputs(props), { rollbackEarly: true });
  return { id, outs: state };
}

/** Refresh: reports what is on the host now; drift shows in `observed` and `drift`. */
export async function read(id: string, props: Record<string, unknown>): Promise<dynamic.ReadResult> {
  const inputs = parseInputs(props);
  const view = await observe(await connect(inputs, progressLog(inputs)), inputs);
  // Nothing of ours left at all: the resource is gone (the next `pulumi up` creates it again).
  if (!anythingOurs(view)) return { id: "" };
  const recordedKernelName = typeof props["kernelName"] === "string" ? props["kernelName"] : "";
  return { id, props: stateFromView(view, inputs, recordedKernelName) };
}

export async function update(
  _id: string,
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<dynamic.UpdateResult> {
  const { state } = await converge(parseInputs(news), { rollbackEarly: false });
  return { outs: state };
}

async function remove(_id: string, props: Record<string, unknown>): Promise<void> {
  await removePassthrough(parseInputs(props));
}
export { remove as delete };
