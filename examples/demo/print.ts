// Pure: the Pulumi-style text of each step. Nothing here does I/O or measures time.

/** What happened (or would happen) to one resource in a step. */
export interface ResourceLine {
  readonly symbol: "+" | "~" | "-" | " ";
  readonly type: string;
  readonly name: string;
  /** "create", "created", "refresh", "updated", ... */
  readonly verb: string;
  /** Why, in brackets after the verb ("drift: the VBD was unplugged"). */
  readonly notes?: readonly string[];
  readonly ms?: number;
}

/** "0.42s": the unit Pulumi prints durations in. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

export function resourceLine(line: ResourceLine): string {
  const notes = line.notes === undefined || line.notes.length === 0 ? "" : ` [${line.notes.join("; ")}]`;
  const took = line.ms === undefined ? "" : ` (${seconds(line.ms)})`;
  return `    ${line.symbol} ${line.type} ${line.name} ${line.verb}${notes}${took}`;
}

/** The "Resources:" block: one line per non-zero count, in the order given. */
export function resourcesSummary(
  counts: readonly (readonly [symbol: string, count: number, what: string])[],
): string {
  const lines = counts
    .filter(([, count]) => count > 0)
    .map(([symbol, count, what]) => `    ${symbol === " " ? "" : `${symbol} `}${count} ${what}`);
  return ["Resources:", ...lines].join("\n");
}

/** The "Outputs:" block: name, then its fields aligned. */
export function outputsBlock(
  outputs: readonly { name: string; fields: Readonly<Record<string, unknown>> }[],
): string {
  const lines = ["Outputs:"];
  for (const { name, fields } of outputs) {
    lines.push(`    ${name}:`);
    const width = Math.max(...Object.keys(fields).map((key) => key.length));
    for (const [key, value] of Object.entries(fields)) {
      lines.push(`        ${key.padEnd(width)} : ${JSON.stringify(value)}`);
    }
  }
  return lines.join("\n");
}

/**
 * A step as Pulumi prints one: the heading ("Previewing update (sandbox):") with the resource
 * lines right under it, then blank-line separated blocks, then the duration.
 */
export function stepText(
  heading: string,
  lines: readonly string[],
  blocks: readonly string[],
  ms: number,
): string {
  const head = [`${heading}:`, ...lines].join("\n");
  return [head, ...blocks.filter((block) => block !== ""), `Duration: ${seconds(ms)}`].join("\n\n") + "\n";
}
