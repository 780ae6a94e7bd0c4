import type { XapiFault } from "../faults";

/** What a matching fault rule does to the call. */
export type FaultAction = { error: XapiFault } | "drop" | "delay-only";

/**
 * A fault rule (vcsim-style): which calls it matches and what happens to them. A rule applies to
 * matching calls after skipping the first `skip` of them, for `count` calls (default: forever),
 * each with `probability` (default 1); `delayMs` is added before the action.
 */
export interface FaultRule {
  /** Exact method name ("VBD.plug"), a prefix glob ("VBD.*"), or "*" for every method. */
  method: string;
  objectClass?: string;
  nameLabel?: string;
  ref?: string;
  action: FaultAction;
  count?: number;
  skip?: number;
  probability?: number;
  delayMs?: number;
}

/** A rule as stored: with its id and how many matching calls it has seen and hit. */
export interface ActiveFaultRule extends FaultRule {
  id: string;
  seen: number;
  hits: number;
}

/** What the dispatcher knows about a call when it checks the rules. */
export interface CallFacts {
  method: string;
  objectClass?: string | undefined;
  nameLabel?: string | undefined;
  ref?: string | undefined;
}

export function methodMatches(pattern: string, method: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith("*")) return method.startsWith(pattern.slice(0, -1));
  return pattern === method;
}

function matches(rule: FaultRule, call: CallFacts): boolean {
  return (
    methodMatches(rule.method, call.method) &&
    (rule.objectClass === undefined || rule.objectClass === call.objectClass) &&
    (rule.nameLabel === undefined || rule.nameLabel === call.nameLabel) &&
    (rule.ref === undefined || rule.ref === call.ref)
  );
}

/** The ordered rule list; the first rule that fires decides the call. */
export class FaultRules {
  private rules: ActiveFaultRule[] = [];
  private nextId = 1;

  constructor(private readonly random: () => number = Math.random) {}

  add(rule: FaultRule): ActiveFaultRule {
    const active: ActiveFaultRule = { ...rule, id: `fault-${this.nextId++}`, seen: 0, hits: 0 };
    this.rules.push(active);
    return active;
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((rule) => rule.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  list(): ActiveFaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  /** Consumes the first rule that fires for this call, if any. */
  fire(call: CallFacts): ActiveFaultRule | undefined {
    for (const rule of this.rules) {
      if (!matches(rule, call)) continue;
      rule.seen += 1;
      if (rule.seen <= (rule.skip ?? 0)) continue;
      if (rule.count !== undefined && rule.hits >= rule.count) continue;
      if (this.random() >= (rule.probability ?? 1)) continue;
      rule.hits += 1;
      return { ...rule };
    }
    return undefined;
  }
}
