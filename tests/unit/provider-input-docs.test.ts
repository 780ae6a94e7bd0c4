// The inputs' defaults and ranges are described once, in the tables of core/inputs.ts; the field
// comments users read state them in words. The comments live on the schema (core/schema.ts), the
// types are inferred from it and the resource's Args are mapped from those: this reads the
// comments where users meet them, on the published Args types (through the TypeScript compiler,
// as an editor does), and holds the words to the tables: a default or a range changed in one
// place only fails here.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import ts from "typescript";
import {
  DEFAULT_OPERATION_TIMEOUT_SECONDS,
  DEFAULTS,
  LIMITS,
  SSH_DEFAULTS,
  XAPI_DEFAULTS,
} from "#provider/core/inputs.js";

const DECLARATIONS = resolve(__dirname, "../../../provider/dist/resource.d.ts");
const ARGS_TYPES = ["PassthroughDiskArgs", "SshHopArgs", "ConnectionArgs", "XapiArgs"];

/** Field name -> its doc comment, for every documented field of the published Args types. */
function fieldDocs(): Map<string, string> {
  const program = ts.createProgram([DECLARATIONS], { strict: true, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(DECLARATIONS);
  if (source === undefined) throw new Error(`${DECLARATIONS} is missing: build first`);
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(source) as ts.Symbol);
  const docs = new Map<string, string>();
  for (const name of ARGS_TYPES) {
    const symbol = exported.find((s) => s.name === name);
    if (symbol === undefined) throw new Error(`${name} is not exported by the resource module`);
    for (const property of checker.getDeclaredTypeOfSymbol(symbol).getProperties()) {
      const doc = ts.displayPartsToString(property.getDocumentationComment(checker)).replace(/\s+/g, " ");
      if (doc !== "" && !docs.has(property.name)) docs.set(property.name, doc);
    }
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
