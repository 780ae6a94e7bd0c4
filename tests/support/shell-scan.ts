// A small scanner for the bash scripts the provider sends to dom0: it finds every command with
// its arguments and every shell construct (expansions, quoting forms, redirections, reserved
// words), so a test can hold each of them against what dom0's bash and tools support. It knows
// the subset of bash our scripts are written in; anything it cannot read it reports as an
// unknown feature, so the test fails rather than passes silently.

/** One word as written: its source text and its value after quote removal (expansions kept). */
export interface ShellWord {
  readonly raw: string;
  readonly value: string;
  /** Set when the whole word is an unquoted `$name` or `${name}`: bash splits it into words. */
  readonly splitVariable?: string;
}

export interface CommandUse {
  readonly name: string;
  readonly args: readonly ShellWord[];
}

export interface ScriptScan {
  readonly commands: readonly CommandUse[];
  /** Shell constructs, by the names the dom0 tools list uses ("${name##pattern}", "<<<", "case"...). */
  readonly features: readonly string[];
  /** Variables the script expands. */
  readonly variables: readonly string[];
  /** Values assigned to each variable (after quote removal). */
  readonly assignments: ReadonlyMap<string, readonly string[]>;
  /** Bodies of $(...) and `...`: scripts of their own. */
  readonly substitutions: readonly string[];
}

type Token =
  | { readonly kind: "word"; readonly word: ShellWord }
  | { readonly kind: "op"; readonly op: string }
  | { readonly kind: "newline" };

// Longest first, so "<<<" is not read as "<<" then "<".
const OPERATORS = [
  ";;&",
  "&>>",
  "<<<",
  "<<-",
  ";;",
  ";&",
  "&&",
  "||",
  "|&",
  "&>",
  "<<",
  ">>",
  ">|",
  "<>",
  "<&",
  ">&",
].concat(["<", ">", "|", "&", ";", "(", ")"]);
const REDIRECTIONS = new Set(["<", ">", ">>", ">|", "<>", "<&", ">&", "&>", "&>>", "<<<", "<<", "<<-"]);
const RESERVED = new Set(["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for"]);
const MORE_RESERVED = new Set(["case", "esac", "{", "}", "!", "[[", "select", "function", "coproc", "time"]);

class Collector {
  readonly features: string[] = [];
  readonly variables: string[] = [];
  readonly substitutions: string[] = [];
  readonly assignments = new Map<string, string[]>();
  readonly commands: CommandUse[] = [];
}

/** Pure: what a script runs and which shell constructs it uses. */
export function scanScript(script: string): ScriptScan {
  const sink = new Collector();
  parse(tokenize(script, sink), sink);
  return sink;
}

function closing(text: string, from: number, open: string, close: string): number {
  let depth = 1;
  for (let i = from; i < text.length; i += 1) {
    const c = text[i];
    if (c === "\\") i += 1;
    else if (c === "'" && open !== "{") i = text.indexOf("'", i + 1);
    else if (c === '"') i = closingQuote(text, i + 1);
    else if (text.startsWith(open, i)) depth += 1;
    else if (text.startsWith(close, i) && --depth === 0) return i;
    if (i < 0) break;
  }
  throw new Error(`unbalanced "${open}" at ${from} in: ${text.slice(Math.max(0, from - 20), from + 40)}`);
}

function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i += 1) {
    if (text[i] === "\\") i += 1;
    else if (text[i] === '"') return i;
    else if (text.startsWith("$(", i)) i = closing(text, i + 2, "(", ")");
    else if (text.startsWith("${", i)) i = closing(text, i + 2, "{", "}");
  }
  throw new Error(`unterminated double quote at ${from}`);
}

const ANSI_C_ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", "\\": "\\", "'": "'", '"': '"' };

function ansiC(body: string): string {
  return body.replace(/\\(0[0-7]{0,3}|.)/g, (_, e: string) =>
    e.startsWith("0") ? String.fromCharCode(parseInt(e, 8)) : (ANSI_C_ESCAPES[e] ?? `\\${e}`),
  );
}

/** `$...` at `i`: records what it is, returns its literal text and where it ends. */
function dollar(text: string, i: number, inDouble: boolean, sink: Collector): { value: string; end: number } {
  const next = text[i + 1] ?? "";
  if (next === "'" && !inDouble) {
    let end = i + 2;
    while (end < text.length && text[end] !== "'") end += text[end] === "\\" ? 2 : 1;
    sink.features.push("$'...'");
    return { value: ansiC(text.slice(i + 2, end)), end: end + 1 };
  }
  if (next === '"' && !inDouble) {
    sink.features.push('$"..."');
    const end = closingQuote(text, i + 2);
    return { value: text.slice(i + 2, end), end: end + 1 };
  }
  if (text.startsWith("$((", i)) {
    const end = closing(text, i + 3, "(", ")");
    sink.features.push("$((...))");
    return { value: text.slice(i, end + 2), end: end + 2 };
  }
  if (next === "(") {
    const end = closing(text, i + 2, "(", ")");
    sink.features.push("$(...)");
    sink.substitutions.push(text.slice(i + 2, end));
    return { value: text.slice(i, end + 1), end: end + 1 };
  }
  if (next === "{") {
    const end = closing(text, i + 2, "{", "}");
    braceExpansion(text.slice(i + 2, end), inDouble, sink);
    return { value: text.slice(i, end + 1), end: end + 1 };
  }
  const name = /^([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!_-])/.exec(text.slice(i + 1));
  if (name?.[1] !== undefined) {
    sink.variables.push(name[1]);
    return { value: `$${name[1]}`, end: i + 1 + name[1].length };
  }
  return { value: "$", end: i + 1 };
}

/** Names a `${...}` form the way the features list does. */
function braceExpansion(body: string, inDouble: boolean, sink: Collector): void {
  const parts = /^(!|#)?([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])(\[[^\]]*\])?([\s\S]*)$/.exec(body);
  if (parts === null) {
    sink.features.push(`\${${body}} (unrecognised form)`);
    return;
  }
  const [, prefix = "", name = "", subscript = "", rest = ""] = parts;
  sink.variables.push(name);
  if (subscript !== "") sink.features.push(subscript.startsWith("[-") ? "${name[-index]}" : "${name[index]}");
  if (rest.includes("$'")) sink.features.push(inDouble ? "$'...' in a double-quoted ${...}" : "$'...'");
  if (prefix === "!") return void sink.features.push(rest === "" ? "${!name}" : `\${!name${rest}}`);
  if (prefix === "#" && rest === "") return void sink.features.push("${#name}");
  const forms: readonly [RegExp, string][] = [
    [/^$/, "${name}"],
    [/^##/, "${name##pattern}"],
    [/^#/, "${name#pattern}"],
    [/^%%/, "${name%%pattern}"],
    [/^%/, "${name%pattern}"],
    [/^\/\//, "${name//pattern/string}"],
    [/^\/[#%]/, "${name/#pattern/string}"],
    [/^\//, "${name/pattern/string}"],
    [/^:?[-=?+]/, "${name:-word}"],
    [/^:/, "${name:offset:length}"],
    [/^[\^,]/, "${name^^}"],
    [/^@[A-Za-z]$/, "${name@op}"],
  ];
  const form = forms.find(([pattern]) => pattern.test(rest));
  sink.features.push(form?.[1] ?? `\${name${rest}} (unrecognised form)`);
}

/** A `...` command substitution at `i`: its body is a script of its own. */
function backquoted(text: string, i: number, sink: Collector): { value: string; end: number } {
  const end = text.indexOf("`", i + 1);
  sink.features.push("`...`");
  sink.substitutions.push(text.slice(i + 1, end));
  return { value: text.slice(i, end + 1), end: end + 1 };
}

function readWord(text: string, start: number, sink: Collector): { word: ShellWord; end: number } {
  let i = start;
  let value = "";
  let quoted = false;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c) || "|&;()<>".includes(c)) break;
    if (c === "\\") {
      if (text[i + 1] !== "\n") value += text[i + 1] ?? "";
      i += 2;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      value += text.slice(i + 1, end);
      quoted = true;
      i = end + 1;
    } else if (c === '"') {
      const end = closingQuote(text, i + 1);
      value += doubleQuoted(text.slice(i + 1, end), sink);
      quoted = true;
      i = end + 1;
    } else if (c === "$") {
      const part = dollar(text, i, false, sink);
      value += part.value;
      quoted ||= text[i + 1] === "'";
      i = part.end;
    } else if (c === "`") {
      const part = backquoted(text, i, sink);
      value += part.value;
      i = part.end;
    } else {
      value += c;
      i += 1;
    }
  }
  const raw = text.slice(start, i);
  const lone = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(raw);
  const splitVariable = quoted ? undefined : (lone?.[1] ?? lone?.[2]);
  return { word: { raw, value, ...(splitVariable === undefined ? {} : { splitVariable }) }, end: i };
}

function doubleQuoted(body: string, sink: Collector): string {
  let value = "";
  for (let i = 0; i < body.length;) {
    const c = body[i] ?? "";
    if (c === "\\" && '$`"\\\n'.includes(body[i + 1] ?? "")) {
      if (body[i + 1] !== "\n") value += body[i + 1] ?? "";
      i += 2;
    } else if (c === "$") {
      const part = dollar(body, i, true, sink);
      value += part.value;
      i = part.end;
    } else if (c === "`") {
      const part = backquoted(body, i, sink);
      value += part.value;
      i = part.end;
    } else {
      value += c;
      i += 1;
    }
  }
  return value;
}

function tokenize(text: string, sink: Collector): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (c === "\n") {
      tokens.push({ kind: "newline" });
      i += 1;
    } else if (c === "\\" && text[i + 1] === "\n") {
      i += 2;
    } else if (/\s/.test(c)) {
      i += 1;
    } else if (c === "#") {
      i = text.indexOf("\n", i) < 0 ? text.length : text.indexOf("\n", i);
    } else if (text.startsWith("<(", i) || text.startsWith(">(", i)) {
      // Process substitution: a word whose body is a script of its own, like $(...).
      const end = closing(text, i + 2, "(", ")");
      const raw = text.slice(i, end + 1);
      sink.features.push(`${c}(...)`);
      sink.substitutions.push(text.slice(i + 2, end));
      tokens.push({ kind: "word", word: { raw, value: raw } });
      i = end + 1;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op !== undefined) {
        tokens.push({ kind: "op", op });
        i += op.length;
        continue;
      }
      const { word, end } = readWord(text, i, sink);
      const fd = /^([0-9]+|\{[A-Za-z_][A-Za-z0-9_]*\})$/.exec(word.raw);
      const redirection = OPERATORS.find((o) => REDIRECTIONS.has(o) && text.startsWith(o, end));
      if (fd !== null && redirection !== undefined) {
        // "2>" or "{fd}>": the number or name belongs to the redirection.
        const prefix = word.raw.startsWith("{") ? "{varname}" : "N";
        tokens.push({ kind: "op", op: `${prefix}${redirection}` });
        i = end + redirection.length;
        continue;
      }
      if (text[end] === "(" && !word.raw.endsWith("="))
        sink.features.push(`${word.raw}( (extglob or function)`);
      tokens.push({ kind: "word", word });
      i = end;
    }
  }
  return tokens;
}

function isRedirection(op: string): boolean {
  return REDIRECTIONS.has(op.replace(/^(N|\{varname\})/, ""));
}

function parse(tokens: readonly Token[], sink: Collector): void {
  const cases: ("patterns" | "body")[] = [];
  let atCommand = true;
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i] as Token;
    if (token.kind === "newline") {
      atCommand = true;
      i += 1;
      continue;
    }
    if (token.kind === "op") {
      sink.features.push(token.op);
      if (isRedirection(token.op)) {
        i += 2; // the redirection's target word
        continue;
      }
      if ([";;", ";&", ";;&"].includes(token.op) && cases.length > 0) cases[cases.length - 1] = "patterns";
      atCommand = true;
      i += 1;
      continue;
    }
    const word = token.word;
    if (cases.at(-1) === "patterns") {
      if (word.value === "esac") {
        sink.features.push("esac");
        cases.pop();
        atCommand = false;
        i += 1;
        continue;
      }
      while (i < tokens.length && !(tokens[i]?.kind === "op" && (tokens[i] as { op: string }).op === ")"))
        i += 1;
      cases[cases.length - 1] = "body";
      atCommand = true;
      i += 1;
      continue;
    }
    if (!atCommand) {
      i += 1;
      continue;
    }
    if (RESERVED.has(word.value) || MORE_RESERVED.has(word.value)) {
      sink.features.push(word.value);
      i += 1;
      if (word.value === "for") {
        i += 1; // the loop variable
        if (tokens[i]?.kind === "word" && (tokens[i] as { word: ShellWord }).word.value === "in") {
          while (i < tokens.length && tokens[i]?.kind === "word") i += 1;
        }
      } else if (word.value === "case") {
        i += 2; // the word and "in"
        cases.push("patterns");
      } else if (word.value === "esac") {
        cases.pop();
      }
      atCommand = !["fi", "done", "}", "esac"].includes(word.value);
      continue;
    }
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=/.exec(word.raw);
    if (assignment?.[1] !== undefined) {
      if (assignment[2] === "+") sink.features.push("name+=value");
      const values = sink.assignments.get(assignment[1]) ?? [];
      values.push(word.value.slice(word.value.indexOf("=") + 1));
      sink.assignments.set(assignment[1], values);
      i += 1;
      continue;
    }
    const args: ShellWord[] = [];
    i += 1;
    while (i < tokens.length) {
      const next = tokens[i] as Token;
      if (next.kind === "newline") break;
      if (next.kind === "op") {
        if (!isRedirection(next.op)) break;
        sink.features.push(next.op);
        i += 2;
        continue;
      }
      args.push(next.word);
      i += 1;
    }
    sink.commands.push({ name: word.value, args });
    atCommand = false;
  }
}
