// Holds a remote script against the dom0 tools list: every command, option, printf conversion,
// special variable and shell construct it uses must be listed, and must not be newer than
// dom0's version of the package it comes from.
import {
  BASH_VARIABLES,
  COMMANDS,
  PRINTF_CONVERSIONS,
  SHELL_FEATURES,
  compareVersions,
  dom0Version,
  type CommandRule,
  type Dom0Package,
  type OptionRule,
  type Since,
} from "./dom0-tools";
import { scanScript, type ShellWord } from "./shell-scan";

/** One use of a listed thing, e.g. { what: "udevadm trigger --sysname-match", package: "systemd", ... }. */
export interface ToolUse {
  readonly what: string;
  readonly package: Dom0Package;
  readonly rule: Since | undefined;
}

/** Pure: every command, option and construct the script uses (nested scripts included). */
export function toolUses(script: string): ToolUse[] {
  const scan = scanScript(script);
  const uses: ToolUse[] = [];
  for (const feature of scan.features)
    uses.push({ what: feature, package: "bash", rule: SHELL_FEATURES[feature] });
  for (const name of scan.variables) {
    const rule = BASH_VARIABLES[name];
    if (rule !== undefined) uses.push({ what: `$${name}`, package: "bash", rule });
  }
  for (const body of scan.substitutions) uses.push(...toolUses(body));
  for (const command of scan.commands) {
    const args = command.args.flatMap((arg) => splitArgument(arg, scan.assignments));
    uses.push(...commandUses(command.name, args));
  }
  return uses;
}

/** An unquoted `$var` argument becomes the words the script assigns to `var` (our only use: option lists). */
function splitArgument(arg: ShellWord, assignments: ReadonlyMap<string, readonly string[]>): string[] {
  if (arg.splitVariable === undefined) return [arg.value];
  const self = new Set([`$${arg.splitVariable}`, `\${${arg.splitVariable}}`]);
  return (assignments.get(arg.splitVariable) ?? [])
    .flatMap((value) => value.split(/\s+/))
    .filter((word) => word !== "" && !self.has(word));
}

function commandUses(name: string, args: readonly string[]): ToolUse[] {
  const rule = COMMANDS[name];
  if (rule === undefined) return [{ what: `command ${name}`, package: "bash", rule: undefined }];
  const uses: ToolUse[] = [{ what: `command ${name}`, package: rule.package, rule }];
  let rest = args;
  let label = name;
  let options = rule.options ?? {};
  if (rule.subcommands !== undefined) {
    const [subcommand = "", ...after] = args;
    const sub = rule.subcommands[subcommand];
    uses.push({ what: `${name} ${subcommand}`, package: rule.package, rule: sub });
    if (sub === undefined) return uses;
    rest = after;
    label = `${name} ${subcommand}`;
    options = sub.options;
  }
  const { operands, used } = readOptions(rule, options, rest);
  for (const [option, value] of used) {
    uses.push({ what: `${label} ${option}`, package: rule.package, rule: options[option] });
    if (option === rule.scriptOption && value !== undefined) uses.push(...toolUses(value));
  }
  const script = rule.scriptOperand === undefined ? undefined : operands[rule.scriptOperand];
  // `trap - EXIT` resets the trap: "-" is no script.
  if (script !== undefined && script !== "-") uses.push(...toolUses(script));
  if (rule.printfFormat === true) uses.push(...printfUses(operands));
  if (rule.wraps !== undefined && operands.length > rule.wraps) {
    const [wrapped = "", ...wrappedArgs] = operands.slice(rule.wraps);
    uses.push(...commandUses(wrapped, wrappedArgs));
  }
  return uses;
}

/**
 * Splits arguments into options (with their values) and operands, the way the command reads
 * them: builtins stop at the first operand; GNU tools read options anywhere before `--`;
 * find's predicates and test's operators are all "options" here.
 */
function readOptions(
  rule: CommandRule,
  options: Readonly<Record<string, OptionRule>>,
  args: readonly string[],
): { operands: string[]; used: [string, string | undefined][] } {
  const operands: string[] = [];
  const used: [string, string | undefined][] = [];
  let parsing = true;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? "";
    if (arg === "--" && parsing) {
      parsing = false;
      continue;
    }
    const looksLikeOption = /^-./.test(arg) && !/^-[0-9]+$/.test(arg);
    const stopsAtOperand =
      rule.parse === "builtin" || (rule.wraps !== undefined && operands.length >= rule.wraps);
    if (!parsing || !looksLikeOption || (stopsAtOperand && operands.length > 0)) {
      operands.push(arg);
      if (stopsAtOperand && operands.length > 0) parsing = false;
      continue;
    }
    if (rule.parse === "find" || rule.parse === "test" || arg.startsWith("--")) {
      const [option = arg, attached] =
        rule.parse === "gnu" && arg.includes("=") ? arg.split(/=(.*)/s) : [arg];
      const takesValue = options[option]?.value === true && attached === undefined;
      used.push([option, attached ?? (takesValue ? args[i + 1] : undefined)]);
      if (takesValue) i += 1;
      continue;
    }
    // Short options: "-rf" is -r -f; "-d' '" or "-n 2" give -d and -n their value.
    for (let at = 1; at < arg.length; at += 1) {
      const option = `-${arg[at] ?? ""}`;
      if (options[option]?.value !== true) {
        used.push([option, undefined]);
        continue;
      }
      const attached = arg.slice(at + 1);
      used.push([option, attached !== "" ? attached : args[i + 1]]);
      if (attached === "") i += 1;
      break;
    }
  }
  return { operands, used };
}

function printfUses(operands: readonly string[]): ToolUse[] {
  const [format = "", ...values] = operands;
  const uses: ToolUse[] = [];
  const conversions = [...format.matchAll(/%(\([^)]*\)T|[-+ #0-9.]*[a-zA-Z%])/g)].map((m) => m[1] ?? "");
  for (const conversion of conversions.filter((c) => c !== "%")) {
    const name = conversion.endsWith(")T") ? "%(fmt)T" : `%${conversion.replace(/^[-+ #0-9.]*/, "")}`;
    uses.push({ what: `printf ${name}`, package: "bash", rule: PRINTF_CONVERSIONS[name] });
  }
  if (conversions.some((c) => c.endsWith(")T")) && values.length === 0) {
    const name = "%(fmt)T without an argument";
    uses.push({ what: `printf ${name}`, package: "bash", rule: PRINTF_CONVERSIONS[name] });
  }
  return uses;
}

/** Pure: what in the script dom0 cannot run, in words a reader can act on. Empty when it all fits. */
export function compatProblems(script: string): string[] {
  const problems = new Set<string>();
  for (const use of toolUses(script)) {
    if (use.rule === undefined) {
      problems.add(
        `${use.what}: not in the dom0 tools list (tests/support/dom0-tools.ts); add it with the version it appeared in and its source, or do without it`,
      );
    } else if (compareVersions(use.rule.since, dom0Version(use.package)) > 0) {
      problems.add(
        `${use.what}: needs ${use.package} ${use.rule.since} (${use.rule.source}); dom0 has ${dom0Version(use.package)}`,
      );
    }
  }
  return [...problems];
}
