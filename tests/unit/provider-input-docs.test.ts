// The inputs' defaults and ranges are described once, in the tables of core/inputs.ts; the field
// comments users read (the resource's Args are mapped from those types) state them in words.
// This holds the words to the tables: a default or a range changed in one place only fails here.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  DEFAULT_OPERATION_TIMEOUT_SECONDS,
  DEFAULTS,
  LIMITS,
  SSH_DEFAULTS,
  XAPI_DEFAULTS,
} from "#provider/core/inputs.js";

const DECLARATIONS = resolve(__dirname, "../../../provider/dist/core/inputs.d.ts");

/** Field name -> its doc comment, for every documented field of the settings and input types. */
function fieldDocs(): Map<string, string> {
  const text = readFileSync(DECLARATIONS, "utf8");
  const docs = new Map<string, string>();
  for (const match of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*readonly (\w+)\??:/g)) {
    docs.set(match[2] ?? "", (match[1] ?? "").replace(/\s*\n\s*\*\s?/g, " "));
  }
  return docs;
}

const TABLE: Readonly<Record<string, unknown>> = {
  ...SSH_DEFAULTS,
  ...XAPI_DEFAULTS,
  ...DEFAULTS,
  operationTimeout: DEFAULT_OPERATION_TIMEOUT_SECONDS,
};

const docs = fieldDocs();

test("every default of the tables is stated in its field's comment, as in the table", () => {
  expect(docs.size).toBeGreaterThan(20);
  for (const [field, value] of Object.entries(TABLE)) {
    const stated = /Default ("[^"]*"|true|false|\d+)/.exec(docs.get(field) ?? "")?.[1];
    expect({ field, stated }).toEqual({ field, stated: JSON.stringify(value) });
  }
});

test("no comment states a default the tables do not have", () => {
  const stray = [...docs].filter(([field, doc]) => /Default [^:]/.test(doc) && !(field in TABLE));
  expect(stray).toEqual([]);
});

test("every range of LIMITS is stated in its field's comment, as in the table", () => {
  for (const [field, { min, max }] of Object.entries(LIMITS)) {
    if (field === "port") continue; // a port's range goes without saying
    expect({ field, range: /\((\d+)\.\.(\d+)\)/.exec(docs.get(field) ?? "")?.slice(1) }).toEqual({
      field,
      range: [String(min), String(max)],
    });
  }
});

test("README's inputs table states the defaults of the table", () => {
  const readme = readFileSync(resolve(__dirname, "../../../README.md"), "utf8");
  for (const [field, value] of Object.entries(DEFAULTS)) {
    const row = new RegExp(`^\\| \`${field}\`\\s*\\| ([^|]*?)\\s*\\|`, "m").exec(readme);
    expect({ field, stated: row?.[1] }).toEqual({ field, stated: JSON.stringify(value) });
  }
});
