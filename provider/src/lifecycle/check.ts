// check, as the dynamic-provider host calls it. Pure: no SSH, no XAPI (previews run it offline).
import type { dynamic } from "@pulumi/pulumi";
import { checkInputs } from "../core/check.js";

/** Validates and defaults the inputs; failures name the property and what is allowed. */
export function check(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<dynamic.CheckResult> {
  const { inputs, failures } = checkInputs(olds ?? {}, news ?? {});
  return Promise.resolve(failures.length === 0 ? { inputs } : { inputs, failures });
}
