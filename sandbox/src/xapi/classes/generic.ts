import type { ClassSchema, Database } from "../database";
import { Faults, fail, ok } from "../faults";
import type { Outcome } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { asText, isStruct } from "../values";
import type { XapiStruct, XapiValue } from "../values";
import { evalFilter, fieldOfColumn, parseFilter, storedString } from "./db-filter";

/** What a class exposes generically besides its getters (XAPI's RW fields with setters). */
export interface GenericOptions {
  /** False for classes without get_all/get_all_records (session). */
  listable?: boolean;
  /** Fields with a plain `set_<field>` (other_config and name_* are handled here when present). */
  settable?: string[];
  /** Map fields besides other_config with set_/add_to_/remove_from_ (VM.blocked_operations). */
  maps?: string[];
}

/**
 * The methods XAPI generates for every class: get_all, get_all_records, get_record, get_by_uuid,
 * get_by_name_label, one get_<field> per field, and the other_config map operations.
 */
export function genericMethods(schema: ClassSchema, options: GenericOptions = {}): MethodSpec[] {
  const cls = schema.name;
  const self = { name: "self", kind: "ref", cls } as const;
  const fields = [...Object.keys(schema.fields), ...Object.keys(schema.backRefs ?? {})];
  const specs: MethodSpec[] = [
    { name: `${cls}.get_record`, params: [self], handler: ({ db }, [ref]) => ok(db.record(ref as string)) },
  ];
  if (options.listable !== false) {
    specs.push(
      { name: `${cls}.get_all`, params: [], handler: ({ db }) => ok(db.refs(cls)) },
      {
        name: `${cls}.get_all_records`,
        params: [],
        handler: ({ db }) => {
          const records: XapiStruct = {};
          for (const ref of db.refs(cls)) records[ref] = db.record(ref);
          return ok(records);
        },
      },
      {
        // xen-api datamodel_utils.ml: every class with get_all_records has it (see db-filter.ts).
        name: `${cls}.get_all_records_where`,
        params: [{ name: "expr", kind: "string" }],
        handler: ({ db }, [expr]) => recordsWhere(db, schema, asText(expr)),
      },
    );
  }
  if ("uuid" in schema.fields) {
    specs.push({
      name: `${cls}.get_by_uuid`,
      params: [{ name: "uuid", kind: "string" }],
      handler: ({ db }, [uuid]) => {
        const [ref] = db.find(cls, (record) => record["uuid"] === uuid);
        return ref === undefined ? Faults.uuidInvalid(cls, String(uuid)) : ok(ref);
      },
    });
  }
  if ("name_label" in schema.fields) {
    specs.push({
      name: `${cls}.get_by_name_label`,
      params: [{ name: "label", kind: "string" }],
      handler: ({ db }, [label]) => ok(db.find(cls, (record) => record["name_label"] === label)),
    });
  }
  for (const field of fields) {
    specs.push({
      name: `${cls}.get_${field}`,
      params: [self],
      handler: ({ db }, [ref]) => ok(db.field(ref as string, field) ?? ""),
    });
  }
  const settable = [...(options.settable ?? [])];
  for (const field of ["name_label", "name_description"]) if (field in schema.fields) settable.push(field);
  for (const field of settable) {
    specs.push({
      name: `${cls}.set_${field}`,
      params: [self, { name: "value", kind: "any" }],
      handler: ({ db }, [ref, value]) => {
        const current = schema.fields[field];
        if (typeof current !== typeof value) return Faults.fieldTypeError(field);
        db.update(ref as string, { [field]: value as string });
        return ok("");
      },
    });
  }
  const maps = [...("other_config" in schema.fields ? ["other_config"] : []), ...(options.maps ?? [])];
  for (const map of maps) specs.push(...mapMethods(schema, map));
  return specs;
}

/** set_/add_to_/remove_from_ for a `(string -> string) map` field. */
function mapMethods(schema: ClassSchema, field: string): MethodSpec[] {
  const cls = schema.name;
  const self = { name: "self", kind: "ref", cls } as const;
  const current = (record: XapiStruct): XapiStruct => {
    const value = record[field];
    return isStruct(value) ? value : {};
  };
  return [
    {
      name: `${cls}.set_${field}`,
      params: [self, { name: "value", kind: "map" }],
      handler: ({ db }, [ref, value]) => {
        db.update(ref as string, { [field]: value as XapiStruct });
        return ok("");
      },
    },
    {
      name: `${cls}.add_to_${field}`,
      params: [self, { name: "key", kind: "string" }, { name: "value", kind: "string" }],
      handler: ({ db }, [ref, key, value]) => {
        const map = current(db.record(ref as string));
        if (Object.hasOwn(map, key as string))
          return Faults.mapDuplicateKey(cls, field, ref as string, key as string);
        db.update(ref as string, { [field]: { ...map, [key as string]: value as string } });
        return ok("");
      },
    },
    {
      name: `${cls}.remove_from_${field}`,
      params: [self, { name: "key", kind: "string" }],
      handler: ({ db }, [ref, key]) => {
        const map = { ...current(db.record(ref as string)) };
        delete map[key as string];
        db.update(ref as string, { [field]: map });
        return ok("");
      },
    },
  ];
}

/**
 * get_all_records_where: a malformed expression fails INVALID_VALUE [expr, reason] (exnHelper.ml,
 * Db_filter.Expression_error); a column the class lacks fails INTERNAL_ERROR ["missing field",
 * column, ""] (db_cache_types.ml Row.find), as soon as a record is tested.
 */
function recordsWhere(db: Database, schema: ClassSchema, text: string): Outcome<XapiValue> {
  let expr;
  try {
    expr = parseFilter(text);
  } catch (error) {
    return fail("INVALID_VALUE", text, (error as Error).message);
  }
  const fields = [...Object.keys(schema.fields), ...Object.keys(schema.backRefs ?? {})];
  const records: XapiStruct = {};
  for (const ref of db.refs(schema.name)) {
    const record = db.record(ref);
    let missing: string | undefined;
    const matches = evalFilter(expr, (column) => {
      const field = fieldOfColumn(schema.name, column, fields);
      if (field === undefined) missing ??= column;
      return field === undefined ? "" : storedString(record[field] ?? "");
    });
    if (missing !== undefined) return fail("INTERNAL_ERROR", "missing field", missing, "");
    if (matches) records[ref] = record;
  }
  return ok(records);
}
