import type { ClassSchema, Database } from "../database";
import { Faults, ok } from "../faults";
import type { Outcome } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NEVER, NULL_REF, asBool, asInt, asStringMap, asText } from "../values";
import type { XapiStruct, XapiValue } from "../values";
import type { World } from "../world";
import { devicesOfSr } from "../world";
import { genericMethods } from "./generic";

export const vdiSchema: ClassSchema = {
  name: "VDI",
  fields: {
    uuid: "",
    name_label: "",
    name_description: "",
    SR: NULL_REF,
    type: "user",
    sharable: false,
    read_only: false,
    managed: true,
    missing: false,
    location: "",
    virtual_size: 0,
    physical_utilisation: 0,
    sm_config: {},
    xenstore_data: {},
    other_config: {},
    is_a_snapshot: false,
    snapshot_of: NULL_REF,
    snapshot_time: NEVER,
    metadata_of_pool: NULL_REF,
    storage_lock: false,
    is_tools_iso: false,
    cbt_enabled: false,
    tags: [],
    allowed_operations: [],
    current_operations: {},
  },
  backRefs: { VBDs: { from: "VBD", via: "VDI" } },
};

export function isUdevSr(db: Database, sr: string): boolean {
  return db.str(sr, "type") === "udev";
}

/**
 * Forgets a VDI, then does what XAPI's database GC does next: destroys the Disk VBDs left
 * pointing at it. An attached VBD is marked detached first (the device is gone anyway).
 */
export function forgetVdi(db: Database, vdi: string): void {
  const vbds = db.find("VBD", (vbd) => vbd["VDI"] === vdi);
  db.destroy(vdi);
  for (const vbd of vbds) {
    if (db.str(vbd, "type") !== "Disk") {
      db.update(vbd, { VDI: NULL_REF, empty: true, currently_attached: false });
      continue;
    }
    if (db.bool(vbd, "currently_attached")) db.update(vbd, { currently_attached: false });
    db.destroy(vbd);
  }
}

/** XAPI checks an introduced UUID's form (8-4-4-4-12 hex digits). */
const UUID_FORM = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** XAPI refuses VDI operations other than live ones (snapshot, clone…) while a VBD has it attached. */
function refuseIfAttached(db: Database, vdi: string, operation: string) {
  const attached = db.find("VBD", (vbd) => vbd["VDI"] === vdi && vbd["currently_attached"] === true);
  return attached.length > 0 ? Faults.vdiInUse(vdi, operation) : undefined;
}

/** VDI.introduce's parameters after the session (the last seven have defaults upstream). */
const introduceParams = [
  { name: "uuid", kind: "string" },
  { name: "name_label", kind: "string" },
  { name: "name_description", kind: "string" },
  { name: "SR", kind: "ref", cls: "SR" },
  { name: "type", kind: "string" },
  { name: "sharable", kind: "bool" },
  { name: "read_only", kind: "bool" },
  { name: "other_config", kind: "map" },
  { name: "location", kind: "string" },
  { name: "xenstore_data", kind: "map" },
  { name: "sm_config", kind: "map" },
  { name: "managed", kind: "bool" },
  { name: "virtual_size", kind: "int" },
  { name: "physical_utilisation", kind: "int" },
  { name: "metadata_of_pool", kind: "string" },
  { name: "is_a_snapshot", kind: "bool" },
  { name: "snapshot_time", kind: "any" },
  { name: "snapshot_of", kind: "string" },
] as const;

/** The udev backend's record of when a device appeared (ISO 8601 to the second, UTC). */
export function hotpluggedAt(): string {
  return new Date().toISOString().slice(0, 19) + "Z";
}

/**
 * VDI.introduce: the location must be new in the SR and the UUID well formed. On a udev SR the
 * backend reads the device itself, so size and label come from the device directory (a
 * non-empty name given by the caller still wins, upstream CA-13140).
 */
async function introduce(db: Database, world: World, args: readonly unknown[]): Promise<Outcome<XapiValue>> {
  const [uuid, nameLabel, nameDescription, sr, type, location] = [0, 1, 2, 3, 4, 8].map((i) =>
    asText(args[i]),
  );
  const srRef = sr ?? "";
  const where = location ?? "";
  if (db.find("VDI", (vdi) => vdi["SR"] === srRef && vdi["location"] === where).length > 0) {
    return Faults.locationNotUnique(srRef, where);
  }
  if (!UUID_FORM.test(uuid ?? "")) return Faults.uuidInvalid("VDI", uuid ?? "");
  // choice: a duplicate UUID fails like a malformed one (upstream fails in the DB uniqueness check).
  if (db.find("VDI", (vdi) => vdi["uuid"] === uuid).length > 0) return Faults.uuidInvalid("VDI", uuid ?? "");
  const fields: XapiStruct = {
    uuid: uuid ?? "",
    name_label: nameLabel ?? "",
    name_description: nameDescription ?? "",
    SR: srRef,
    type: type || "user",
    sharable: asBool(args[5]) ?? false,
    read_only: asBool(args[6]) ?? false,
    other_config: asStringMap(args[7]) ?? {},
    location: where,
    xenstore_data: asStringMap(args[9]) ?? {},
    sm_config: asStringMap(args[10]) ?? {},
    managed: asBool(args[11]) ?? true,
    virtual_size: asInt(args[12]) ?? 0,
    physical_utilisation: asInt(args[13]) ?? 0,
  };
  if (isUdevSr(db, srRef)) {
    const listed = (await devicesOfSr(world, srRef)?.list()) ?? [];
    const entry = listed.find((device) => device.location === where);
    Object.assign(fields, {
      virtual_size: entry?.sizeBytes ?? 0,
      physical_utilisation: entry?.sizeBytes ?? 0,
      name_label: nameLabel || (entry?.nameLabel ?? where),
      read_only: (asStringMap(db.field(srRef, "sm_config")) ?? {})["type"] === "cd",
      sm_config: { ...(asStringMap(args[10]) ?? {}), hotplugged_at: hotpluggedAt() },
    });
  }
  return ok(db.create("VDI", fields));
}

const vdiRef = { name: "vdi", kind: "ref", cls: "VDI" } as const;
const srLockOfVdi = (args: readonly unknown[], db: Database) => [`SR:${db.str(String(args[0]), "SR")}`];

export const vdiMethods: MethodSpec[] = [
  ...genericMethods(vdiSchema),
  {
    name: "VDI.introduce",
    params: [...introduceParams],
    optionalParams: 7,
    hasAsync: true,
    locks: (args) => [`SR:${String(args[3])}`],
    handler: ({ db, world }, args) => introduce(db, world, args),
  },
  {
    name: "VDI.forget",
    params: [vdiRef],
    hasAsync: true,
    locks: srLockOfVdi,
    handler: ({ db }, [vdi]) => {
      const refused = refuseIfAttached(db, vdi as string, "forget");
      if (refused !== undefined) return refused;
      forgetVdi(db, vdi as string);
      return ok("");
    },
  },
  {
    name: "VDI.destroy",
    params: [vdiRef],
    hasAsync: true,
    locks: srLockOfVdi,
    handler: ({ db }, [vdi]) => {
      const ref = vdi as string;
      const refused = refuseIfAttached(db, ref, "destroy");
      if (refused !== undefined) return refused;
      if (isUdevSr(db, db.str(ref, "SR"))) return Faults.vdiIsAPhysicalDevice(ref);
      forgetVdi(db, ref);
      return ok("");
    },
  },
];
