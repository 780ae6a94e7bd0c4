// <class>.get_all_records_where's expression language (xen-api ocaml/database/db_filter_lex.mll,
// db_filter_parse.mly, db_filter.ml eval_expr): `field "power_state" = "Running" and not (...)`.
// Values compare as the strings the database stores (db_cache_impl.ml find_refs_with_filter_internal,
// Schema.Value.marshal), and a field is named by its database column: namespaced fields join
// their parts with "__" (name__label, memory__static_max), as state.db spells them.
import { XapiFloat, XapiInt32, formatXapiDate, isStruct } from "../values";
import type { XapiValue } from "../values";

type Value = { field: string } | { literal: string };
export type FilterExpr =
  | { op: "true" | "false" }
  | { op: "not"; expr: FilterExpr }
  | { op: "and" | "or"; left: FilterExpr; right: FilterExpr }
  | { op: "eq"; left: Value; right: Value };

type Token = "=" | "(" | ")" | "true" | "false" | "field" | "and" | "or" | "not" | { ident: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s+|=|\(|\)|true|false|field|and|or|not|"[^"]*"/y;
  while (pattern.lastIndex < text.length) {
    const at = pattern.lastIndex;
    const match = pattern.exec(text);
    if (match === null) throw new Error(`unexpected character at ${at}`);
    const lexeme = match[0];
    if (/^\s+$/.test(lexeme)) continue;
    tokens.push(lexeme.startsWith('"') ? { ident: lexeme.slice(1, -1) } : (lexeme as Token));
  }
  return tokens;
}

/** Pure: the parsed expression; throws on a syntax error (XAPI: INVALID_VALUE [expr, reason]). */
export function parseFilter(text: string): FilterExpr {
  const tokens = tokenize(text);
  let index = 0;
  const peek = () => tokens[index];
  const take = () => tokens[index++];
  const value = (): Value => {
    const token = take();
    if (token === "field") {
      const name = take();
      if (typeof name === "object") return { field: name.ident };
    } else if (typeof token === "object") return { literal: token.ident };
    throw new Error('a value must be a quoted string or field "name"');
  };
  // Precedence as the grammar's: not binds tightest; and/or are left-associative at one level.
  const unary = (): FilterExpr => {
    const token = peek();
    if (token === "not") {
      take();
      return { op: "not", expr: unary() };
    }
    if (token === "true" || token === "false") {
      take();
      return { op: token };
    }
    if (token === "(") {
      take();
      const inner = binary();
      if (take() !== ")") throw new Error("missing )");
      return inner;
    }
    const left = value();
    if (take() !== "=") throw new Error("expected =");
    return { op: "eq", left, right: value() };
  };
  const binary = (): FilterExpr => {
    let left = unary();
    for (let token = peek(); token === "and" || token === "or"; token = peek()) {
      take();
      left = { op: token, left, right: unary() };
    }
    return left;
  };
  const expr = binary();
  if (index !== tokens.length) throw new Error("trailing tokens");
  return expr;
}

function quote(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** Pure: a field's value as the database stores it (Schema.Value.marshal; sets and maps as s-expressions). */
export function storedString(value: XapiValue): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof XapiFloat || value instanceof XapiInt32) return String(value.value);
  if (value instanceof Date) return formatXapiDate(value);
  if (Array.isArray(value)) return `(${value.map((entry) => quote(storedString(entry))).join(" ")})`;
  if (isStruct(value))
    return `(${Object.entries(value)
      .map(([key, entry]) => `(${quote(key)} ${quote(storedString(entry))})`)
      .join(" ")})`;
  return "";
}

/** Pure: evaluates `expr` on one record; `lookup` returns a column's stored string or throws. */
export function evalFilter(expr: FilterExpr, lookup: (column: string) => string): boolean {
  const valueOf = (value: Value) => ("field" in value ? lookup(value.field) : value.literal);
  switch (expr.op) {
    case "true":
      return true;
    case "false":
      return false;
    case "not":
      return !evalFilter(expr.expr, lookup);
    case "and":
      return evalFilter(expr.left, lookup) && evalFilter(expr.right, lookup);
    case "or":
      return evalFilter(expr.left, lookup) || evalFilter(expr.right, lookup);
    case "eq":
      return valueOf(expr.left) === valueOf(expr.right);
  }
}

/** Namespaces (datamodel `namespace ~name`) of the modelled classes: their fields' columns use "__". */
const NAMESPACES: Record<string, readonly string[]> = {
  VM: ["name", "memory", "VCPUs", "actions", "PV", "HVM"],
  host: ["name", "memory", "API_version"],
  SR: ["name"],
  VDI: ["name"],
  task: ["name"],
  VBD: ["qos"],
};

/** Pure: the record field a database column names, or undefined for a column the class lacks. */
export function fieldOfColumn(cls: string, column: string, fields: readonly string[]): string | undefined {
  const namespaces = NAMESPACES[cls] ?? [];
  const split = column.indexOf("__");
  if (split > 0) {
    const namespace = column.slice(0, split);
    const field = `${namespace}_${column.slice(split + 2)}`;
    return namespaces.includes(namespace) && fields.includes(field) ? field : undefined;
  }
  const namespaced = namespaces.some((namespace) => column.startsWith(`${namespace}_`));
  return !namespaced && fields.includes(column) ? column : undefined;
}
