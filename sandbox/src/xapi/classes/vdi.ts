import type { ClassSchema, Database } from "../database";
import { Faults, ok } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NEVER, NULL_REF, asBool, asInt, asStringMap } from "../values";
import type { XapiStruct } from "../values";
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
    handler: async ({ db, world }, args) => {
      const [uuid, nameLabel, nameDescription, sr, type, sharable, readOnly, otherConfig, location] =
        args as string[];
      const srRef = sr as string;
      if (db.find("VDI", (vdi) => vdi["SR"] === srRef && vdi["location"] === location).length > 0) {
        return Faults.locationNotUnique(srRef, location as string);
      }
      if (!UUID_FORM.test(String(uuid))) return Faults.uuidInvalid("VDI", String(uuid));
      if (db.find("VDI", (vdi) => vdi["uuid"] === uuid).length > 0) {
        return Faults.uuidInvalid("VDI", String(uuid)); // choice: upstream fails on the DB uniqueness check
      }
      const fields: XapiStruct = {
        uuid: uuid ?? "",
        name_label: nameLabel ?? "",
        name_description: nameDescription ?? "",
        SR: srRef,
        type: type ?? "user",
        sharable: asBool(sharable) ?? false,
        read_only: asBool(readOnly) ?? false,
        other_config: asStringMap(otherConfig) ?? {},
        location: location ?? "",
        xenstore_data: asStringMap(args[9]) ?? {},
        sm_config: asStringMap(args[10]) ?? {},
        managed: asBool(args[11]) ?? true,
        virtual_size: asInt(args[12]) ?? 0,
        physical_utilisation: asInt(args[13]) ?? 0,
      };
      if (isUdevSr(db, srRef)) {
        // The udev SM backend reads the device itself: size and label come from it, not the caller.
        // A name given by the caller overrides the device's (upstream CA-13140).
        const entry = (await world.devices.list()).find((device) => device.location === location);
        Object.assign(fields, {
          virtual_size: entry?.sizeBytes ?? 0,
          physical_utilisation: entry?.sizeBytes ?? 0,
          name_label: nameLabel !== "" ? nameLabel : (entry?.nameLabel ?? String(location)),
          read_only: (asStringMap(db.record(srRef)["sm_config"]) ?? {})["type"] === "cd",
          sm_config: {
            ...(fields["sm_config"] as XapiStruct),
            hotplugged_at: new Date().toISOString().slice(0, 19) + "Z",
          },
        });
      }
      return ok(db.create("VDI", fields));
    },
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
