// diff, as the dynamic-provider host calls it. Pure: decides from the stored state (refreshed by
// read) and the checked inputs, with no SSH or XAPI call.
import type { dynamic } from "@pulumi/pulumi";
import { planDiff } from "../core/diff-plan.js";

/** Replace on another host, disk or VM; update on other input changes or repairable drift. */
export function diff(
  _id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<dynamic.DiffResult> {
  const { changes, replaces, deleteBeforeReplace } = planDiff(olds ?? {}, news ?? {});
  return Promise.resolve({ changes, replaces, deleteBeforeReplace });
}
