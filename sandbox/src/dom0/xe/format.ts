import type { RecordsByRef, XapiRecord, XeClass, XeField } from "./fields";
import { formatValue } from "./fields";

/** Pure: the fields named by params= ("all" for every field), or the class's defaults. */
export function selectFields(cls: XeClass, params: string | undefined): XeField[] | { error: string } {
  if (params === "all") return cls.fields;
  const names = params === undefined ? cls.defaults : params.split(",").map((name) => name.trim());
  const selected: XeField[] = [];
  for (const name of names) {
    const field = cls.fields.find((candidate) => candidate.name === name);
    if (field === undefined) return { error: `Unknown field '${name}'` };
    selected.push(field);
  }
  return selected;
}

/** Pure: whether a record passes every `field=value` (or `map-field:key=value`) filter. */
export function matchesFilters(
  cls: XeClass,
  record: XapiRecord,
  all: RecordsByRef,
  filters: ReadonlyMap<string, string>,
): boolean | { error: string } {
  for (const [name, wanted] of filters) {
    const colon = name.indexOf(":");
    if (colon > 0) {
      const field = cls.fields.find((candidate) => candidate.name === name.slice(0, colon));
      const xapiName = field?.name.replace(/-/g, "_");
      const map = xapiName === undefined ? undefined : record[xapiName];
      if (field === undefined || typeof map !== "object" || map === null) {
        return { error: `Unknown field '${name}'` };
      }
      if (formatValue((map as Record<string, unknown>)[name.slice(colon + 1)]) !== wanted) return false;
      continue;
    }
    const field = cls.fields.find((candidate) => candidate.name === name);
    if (field === undefined) return { error: `Unknown field '${name}'` };
    if (field.read(record, all) !== wanted) return false;
  }
  return true;
}

/**
 * Pure: records in xe's default layout: one "name ( RO): value" line per field, names
 * right-aligned on the colon (the first line left-aligned, as xe does), records apart by blank lines.
 */
export function formatRecords(
  records: readonly XapiRecord[],
  fields: readonly XeField[],
  all: RecordsByRef,
): string {
  const labels = fields.map((field) => `${field.name} ( ${field.access})`);
  // xe indents the right-aligned names by four more than the longest one needs.
  const width = Math.max(0, ...labels.map((label) => label.length)) + 4;
  const blocks = records.map((record) =>
    fields
      .map((field, index) => {
        const label = labels[index] ?? field.name;
        const padded = index === 0 ? label.padEnd(width) : label.padStart(width);
        return `${padded}: ${field.read(record, all)}`;
      })
      .join("\n"),
  );
  return blocks.length === 0 ? "" : `${blocks.join("\n\n\n")}\n\n\n`;
}

/** Pure: --minimal output: the first selected field of every record, comma-separated. */
export function formatMinimal(records: readonly XapiRecord[], field: XeField, all: RecordsByRef): string {
  return `${records.map((record) => field.read(record, all)).join(",")}\n`;
}
