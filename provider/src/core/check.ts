// check: validate and default the inputs without any I/O. Returns failures instead of throwing,
// as Pulumi's CheckResult wants them.
import type { z } from "zod/v3";
import { InvalidInputsError, type CheckFailure } from "./errors.js";
import type { PassthroughDiskInputs, XapiDirect } from "./inputs.js";
import { exactInputsSchema, exactXapiSchema, inputKeys, tolerantInputsSchema } from "./schema.js";

/** The property the dynamic-provider host reserves for the serialized provider. */
export const PROVIDER_KEY = "__provider";

/** Result of checkInputs: the checked inputs (defaults applied) and every failure found. */
export interface CheckOutcome {
  readonly inputs: Record<string, unknown>;
  readonly failures: CheckFailure[];
}

/**
 * check and parse for one resource type: `tolerant` lets preview unknowns through, `exact` wants
 * every value known; `keys` are its input properties (the rest of a state is outputs). Each is
 * asked for when first needed (the schemas are built on first use).
 */
export function inputReaders<T extends object>(
  schemas: {
    readonly tolerant: () => z.ZodType<object, z.ZodTypeDef, unknown>;
    readonly exact: () => z.ZodType<T, z.ZodTypeDef, unknown>;
  },
  keys: () => readonly string[],
  resource?: string,
) {
  return {
    /** Validates new inputs and applies defaults; on failure the inputs come back unchanged. */
    check: (news: Record<string, unknown>): CheckOutcome => {
      const { [PROVIDER_KEY]: _provider, ...raw } = news;
      const result = schemas.tolerant().safeParse(raw);
      if (result.success) return { inputs: { ...result.data }, failures: [] };
      return { inputs: raw, failures: toFailures(result.error.issues) };
    },
    /** Throws InvalidInputsError, so code running after check never works on unchecked values. */
    parse: (props: Record<string, unknown>): T => {
      const picked = Object.fromEntries(
        keys()
          .filter((key) => props[key] !== undefined)
          .map((key) => [key, props[key]]),
      );
      const result = schemas.exact().safeParse(picked);
      if (!result.success) throw new InvalidInputsError(toFailures(result.error.issues), resource);
      return result.data;
    },
  };
}

const diskInputs = inputReaders<PassthroughDiskInputs>(
  { tolerant: tolerantInputsSchema, exact: exactInputsSchema },
  inputKeys,
);

/** Validates new inputs (preview unknowns tolerated) and applies defaults; never throws. */
export function checkInputs(_olds: Record<string, unknown>, news: Record<string, unknown>): CheckOutcome {
  return diskInputs.check(news);
}

/** Reads fully known inputs out of inputs or state (outputs and `__provider` are ignored). */
export const parseInputs = diskInputs.parse;

/**
 * Validates direct-XAPI settings from elsewhere than the inputs (the stack config): the same
 * rules and defaults as the `xapi` input. Failures name `${prefix}<field>`, e.g. "xen-passthrough:url".
 */
export function parseXapiDirect(raw: Record<string, unknown>, prefix = "xapi."): XapiDirect {
  const known = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
  const result = exactXapiSchema().safeParse(known);
  if (result.success) return result.data;
  const failures = toFailures(result.error.issues).map((f) => ({ ...f, property: `${prefix}${f.property}` }));
  throw new InvalidInputsError(failures);
}

/** Flattens zod issues into one failure per property; union wrappers report their real branch. */
export function toFailures(
  issues: readonly z.ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union") {
      // The last branch is the real schema; the first only accepts the unknown sentinel.
      const branch = issue.unionErrors[issue.unionErrors.length - 1]?.issues ?? [];
      failures.push(...toFailures(branch, prefix));
    } else if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        failures.push({ property: propertyName([...path, key]), reason: "is not a known property" });
    } else {
      failures.push({ property: propertyName(path), reason: issue.message });
    }
  }
  return dedupe(failures);
}

function propertyName(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(inputs)" : path.map(String).join(".");
}

function dedupe(failures: CheckFailure[]): CheckFailure[] {
  const seen = new Set<string>();
  return failures.filter((f) => {
    const key = `${f.property}\n${f.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
