// Undo of a create that failed before its VBD existed: look (the first one) -> plan
// (core/rollback-plan.ts) -> apply, best effort: a part that fails is named and the next one runs.
import { messageOf } from "../core/error-base.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { changesAnything } from "../core/plan.js";
import { planRollback } from "../core/rollback-plan.js";
import type { Log } from "../dom0/remote.js";
import type { HostLook } from "../look/host-view.js";
import { applyPlan, type PlanPart } from "./apply.js";
import type { Changes } from "./changes.js";
import type { HostAccess } from "./connect.js";

/** What a failed part of the undo was for, as the leftovers name it. */
const UNDOING: Partial<Record<PlanPart, string>> = {
  dom0: "undo the rule changes",
  forget: "forget the VDI",
};

/** Best effort: returns what could not be undone, in words (empty when all was undone). */
export async function rollback(
  access: HostAccess,
  view: HostLook,
  changes: Changes,
  inputs: PassthroughDiskInputs,
  log: Log,
): Promise<string[]> {
  const plan = planRollback(view, changes, inputs);
  if (!changesAnything(plan)) return [];
  log("create failed before the VBD existed: undoing its changes");
  const failures: string[] = [];
  await applyPlan(access, view, inputs, plan, log, {
    onPartFailure: (part, error) => failures.push(`${UNDOING[part] ?? part}: ${messageOf(error)}`),
  });
  return failures;
}
