// create and update: look, refuse what is unsafe, plan, apply; the outputs describe the host as
// the apply left it.
import { PartialResourceError } from "../core/errors.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { planConverge } from "../core/converge-plan.js";
import { renderRule } from "../core/rule.js";
import type { PassthroughDiskState } from "../core/state.js";
import { applySteps, type Applied } from "./apply.js";
import { connectAndObserve, progressLog } from "./access.js";
import { observe, type HostView } from "./observe.js";
import { refuseUnsafe } from "./refuse.js";
import { rollback } from "./rollback.js";
import { stateFromView } from "./state.js";

export interface Converged {
  readonly id: string;
  readonly state: PassthroughDiskState;
}

/**
 * Brings the host to the inputs. `rollbackEarly` (create): a failure before the VBD exists undoes
 * this run's changes. Any other failure keeps partial state (PartialResourceError with the id and
 * the state observed after the failure), so the next `pulumi up` resumes from it.
 */
export async function converge(
  inputs: PassthroughDiskInputs,
  options: { readonly rollbackEarly: boolean },
): Promise<Converged> {
  const log = progressLog(inputs);
  const { access, view } = await connectAndObserve(inputs, log);
  refuseUnsafe(view, inputs);
  const steps = planConverge(view.observation, inputs);
  const applied: Applied = {
    ruleCreated: false,
    rulesDisabled: new Map(),
    vbdExists: view.ownVbd !== undefined,
  };
  let after: HostView;
  try {
    after = await applySteps(access, view, inputs, steps, log, applied);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (options.rollbackEarly && !applied.vbdExists) {
      const leftovers = await rollback(access, view, applied, renderRule(inputs.disk).path, log);
      if (leftovers.length === 0) throw error;
      throw new Error(`${message}; the rollback could not undo everything: ${leftovers.join("; ")}`, {
        cause: error,
      });
    }
    const found = await observe(access, inputs).catch(() => view);
    const state = stateFromView(found, inputs, found.disk?.kernelName ?? "");
    throw new PartialResourceError(
      `${message} (partly done: the next \`pulumi up\` resumes from the recorded state)`,
      view.tag,
      { ...state },
      { cause: error },
    );
  }
  return { id: view.tag, state: stateFromView(after, inputs, after.disk?.kernelName ?? "") };
}
