import { NULL_REF, cloneValue, newRef, newUuid } from "./values";
import type { XapiStruct, XapiValue } from "./values";

/** The XAPI classes the simulator models (XAPI's own spelling). */
export type XapiClass =
  | "pool"
  | "host"
  | "host_metrics"
  | "VM"
  | "VM_metrics"
  | "VM_guest_metrics"
  | "SR"
  | "PBD"
  | "VDI"
  | "VBD"
  | "task"
  | "session"
  | "PUSB"
  | "USB_group"
  | "VUSB";

/** A class's record layout: field defaults, and the set-of-ref fields XAPI derives from other classes. */
export interface ClassSchema {
  name: XapiClass;
  /** Every stored field with its default (the default also fixes the field's wire type). */
  fields: XapiStruct;
  /** Derived `X set` fields: e.g. VM.VBDs = refs of VBDs whose `VM` field points here. */
  backRefs?: Record<string, { from: XapiClass; via: string }>;
  /** Fields XAPI keeps live from other state (allowed_operations): computed on every read. */
  derived?: Record<string, (db: Database, ref: string) => XapiValue>;
}

/** One change as event.from reports it. */
export interface Change {
  cls: XapiClass;
  ref: string;
  operation: "add" | "mod" | "del";
  generation: number;
}

interface Row {
  cls: XapiClass;
  fields: XapiStruct;
  created: number;
  modified: number;
}

/**
 * The object store: records by opaque reference, derived back-references, and a generation
 * counter per row so that event.from can report what changed since a token.
 */
export class Database {
  private readonly schemas = new Map<XapiClass, ClassSchema>();
  private readonly rows = new Map<string, Row>();
  private readonly tombstones: Change[] = [];
  private readonly listeners = new Set<() => void>();
  private counter = 0;

  constructor(schemas: ClassSchema[]) {
    for (const schema of schemas) this.schemas.set(schema.name, schema);
  }

  get generation(): number {
    return this.counter;
  }

  schema(cls: XapiClass): ClassSchema {
    const schema = this.schemas.get(cls);
    if (schema === undefined) throw new Error(`no schema for XAPI class ${cls}`);
    return schema;
  }

  classes(): XapiClass[] {
    return [...this.schemas.keys()];
  }

  create(cls: XapiClass, fields: XapiStruct, ref: string = newRef()): string {
    const schema = this.schema(cls);
    const record: XapiStruct = { ...cloneValue(schema.fields), ...fields };
    if ("uuid" in schema.fields && (record["uuid"] === "" || record["uuid"] === undefined))
      record["uuid"] = newUuid();
    const generation = this.bump();
    this.rows.set(ref, { cls, fields: record, created: generation, modified: generation });
    this.touchTargets(cls, record, generation);
    this.notify();
    return ref;
  }

  has(ref: string, cls?: XapiClass): boolean {
    const row = this.rows.get(ref);
    return row !== undefined && (cls === undefined || row.cls === cls);
  }

  classOf(ref: string): XapiClass | undefined {
    return this.rows.get(ref)?.cls;
  }

  /** The full record as get_record returns it (stored fields plus derived back-references). */
  record(ref: string): XapiStruct {
    const row = this.row(ref);
    const record = cloneValue(row.fields);
    for (const [field, { from, via }] of Object.entries(this.schema(row.cls).backRefs ?? {})) {
      record[field] = this.refs(from).filter((other) => this.row(other).fields[via] === ref);
    }
    for (const [field, compute] of Object.entries(this.schema(row.cls).derived ?? {})) {
      record[field] = compute(this, ref);
    }
    return record;
  }

  field(ref: string, name: string): XapiValue | undefined {
    return this.record(ref)[name];
  }

  /** A stored field as it is, without derived fields (what derived fields themselves read). */
  raw(ref: string, name: string): XapiValue | undefined {
    return this.row(ref).fields[name];
  }

  str(ref: string, name: string): string {
    const value = this.row(ref).fields[name];
    return typeof value === "string" ? value : "";
  }

  bool(ref: string, name: string): boolean {
    return this.row(ref).fields[name] === true;
  }

  update(ref: string, patch: XapiStruct): void {
    const row = this.row(ref);
    const generation = this.bump();
    this.touchTargets(row.cls, row.fields, generation);
    Object.assign(row.fields, cloneValue(patch));
    row.modified = generation;
    this.touchTargets(row.cls, row.fields, generation);
    this.notify();
  }

  destroy(ref: string): void {
    const row = this.row(ref);
    const generation = this.bump();
    this.rows.delete(ref);
    this.touchTargets(row.cls, row.fields, generation);
    this.tombstones.push({ cls: row.cls, ref, operation: "del", generation });
    this.notify();
  }

  refs(cls: XapiClass): string[] {
    const out: string[] = [];
    for (const [ref, row] of this.rows) if (row.cls === cls) out.push(ref);
    return out;
  }

  find(cls: XapiClass, predicate: (fields: Readonly<XapiStruct>, ref: string) => boolean): string[] {
    return this.refs(cls).filter((ref) => predicate(this.row(ref).fields, ref));
  }

  /** Every object of the given classes changed after `since`, latest state only (as XAPI coalesces). */
  changesSince(since: number, classes: ReadonlySet<XapiClass>): Change[] {
    const changes: Change[] = [];
    for (const [ref, row] of this.rows) {
      if (!classes.has(row.cls) || row.modified <= since) continue;
      changes.push({
        cls: row.cls,
        ref,
        operation: row.created > since ? "add" : "mod",
        generation: row.modified,
      });
    }
    for (const tombstone of this.tombstones) {
      if (tombstone.generation > since && classes.has(tombstone.cls)) changes.push(tombstone);
    }
    return changes.sort((a, b) => a.generation - b.generation);
  }

  /** Marks an object changed without changing it (event.inject). */
  touch(ref: string): number {
    const row = this.row(ref);
    row.modified = this.bump();
    this.notify();
    return row.modified;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private row(ref: string): Row {
    const row = this.rows.get(ref);
    if (row === undefined) throw new Error(`no object ${ref} in the simulator database`);
    return row;
  }

  private bump(): number {
    this.counter += 1;
    return this.counter;
  }

  /** A change to a forward reference also changes the derived set on the object it points to. */
  private touchTargets(cls: XapiClass, fields: XapiStruct, generation: number): void {
    for (const schema of this.schemas.values()) {
      for (const { from, via } of Object.values(schema.backRefs ?? {})) {
        if (from !== cls) continue;
        const target = fields[via];
        if (typeof target !== "string" || target === NULL_REF) continue;
        const row = this.rows.get(target);
        if (row !== undefined) row.modified = generation;
      }
    }
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
