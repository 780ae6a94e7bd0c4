// create and update: look, plan (refusing what is unsafe), apply; the outputs describe the host
// as the apply left it. A failure undoes a create's changes or keeps partial state, decided from
// what the apply says it changed.
import { messageOf } from "../core/error-base.js";
import { PartialResourceError, RefusedError, RollbackIncompleteError } from "../core/errors.js";
import { planConverge } from "../core/converge-plan.js";
import { MIGRATING_FROM } from "../core/owner.js";
import { viewOf, type HostLook } from "../look/host-view.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import type { PassthroughDiskState } from "../core/state.js";
import type { Log } from "../dom0/remote.js";
import { applyPlan } from "./apply.js";
import { ApplyError, NO_CHANGES } from "./changes.js";
import { connectAndLook, look, progressLog, type HostAccess } from "./connect.js";
import { stateFromView } from "./outputs.js";
import { rollback } from "./rollback.js";

export interface Converged {
  readonly id: string;
  readonly state: PassthroughDiskState;
}

/** The earlier owner an operation on this state takes over: the old state's, or a migration's. */
export function previousOwnerOf(state: Record<string, unknown>): { readonly owner: string | undefined } {
  const migrating = state[MIGRATING_FROM];
  if (typeof migrating === "string") return { owner: migrating };
  return { owner: typeof state["owner"] === "string" ? state["owner"] : undefined };
}

export interface ConvergeOptions {
  /** create: a failure before our VBD exists undoes this run's changes. */
  readonly rollbackEarly: boolean;
  /** update: the owner the old state names (undefined: an earlier version's state); its pieces are ours. */
  readonly previous?: { readonly owner: string | undefined };
}

export async function converge(inputs: PassthroughDiskInputs, options: ConvergeOptions): Promise<Converged> {
  const log = progressLog(inputs);
  const { access, view } = await connectAndLook(inputs, log, options.previous, "changes");
  return convergeFrom(access, view, inputs, options, log);
}

/**
 * Brings the host from `view` to the inputs. With `rollbackEarly`, a failure before the VBD exists
 * undoes this run's changes. Any other failure keeps partial state (PartialResourceError with the
 * id and the state observed after the failure), so the next `pulumi up` resumes from it.
 */
export async function convergeFrom(
  access: HostAccess,
  view: HostLook,
  inputs: PassthroughDiskInputs,
  options: ConvergeOptions,
  log: Log,
): Promise<Converged> {
  const plan = planConverge(view, inputs);
  let after: HostLook;
  try {
    const applied = await applyPlan(access, view, inputs, plan, log);
    const previous = view.previousOwner === undefined ? undefined : { owner: view.previousOwner };
    after = viewOf(applied.inventory, applied.snapshot, inputs, previous);
  } catch (error) {
    const changes = error instanceof ApplyError ? error.changes : NO_CHANGES;
    const pastPointOfNoReturn =
      error instanceof ApplyError ? error.pastPointOfNoReturn : view.vbd !== undefined;
    const cause = error instanceof ApplyError ? error.cause : error;
    // Refused by the host (another owner holds the claim): nothing of this run was changed.
    if (cause instanceof RefusedError) throw cause;
    if (options.rollbackEarly && !pastPointOfNoReturn) {
      const leftovers = await rollback(access, view, changes, inputs, log);
      if (leftovers.length === 0) throw cause;
      throw new RollbackIncompleteError(leftovers, { cause });
    }
    const found = await look(access, inputs, options.previous).catch(() => view);
    const state: Record<string, unknown> = { ...stateFromView(found, inputs, found.disk?.kernelName ?? "") };
    // A migration cut short: pieces may still name the earlier owner, which stays ours until done.
    if (view.previousOwner !== undefined && view.previousOwner !== view.owner)
      state[MIGRATING_FROM] = view.previousOwner;
    throw new PartialResourceError(
      `${messageOf(cause)} (partly done: the next \`pulumi up\` resumes from the recorded state)`,
      view.tag,
      state,
      { cause },
    );
  }
  const state = stateFromView(after, inputs, after.disk?.kernelName ?? "");
  // What converging cannot change (a halted VM, one without PV drivers) is said, not left silent.
  for (const line of state.drift) log(line);
  return { id: view.tag, state };
}
