// diff, as the dynamic-provider host calls it. Pure: decides from the stored state (refreshed by
// read) and the checked inputs, with no SSH or XAPI call.
import type { dynamic } from "@pulumi/pulumi";
import { planDiff, type DiffPlan } from "../core/diff-plan.js";

type DiffPlanner = (olds: Record<string, unknown>, news: Record<string, unknown>) => DiffPlan;

/** The provider method for one resource type's pure diff planner. */
export function diffBy(plan: DiffPlanner) {
  return (
    _id: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<dynamic.DiffResult> => {
    const { changes, replaces, deleteBeforeReplace } = plan(olds ?? {}, news ?? {});
    return Promise.resolve({ changes, replaces, deleteBeforeReplace });
  };
}

/** Replace on another host, disk or VM; update on other input changes or repairable drift. */
export const diff = diffBy(planDiff);
