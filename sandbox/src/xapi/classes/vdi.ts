import type { ClassSchema, Database } from "../database";
import { Faults, ok } from "../faults";
import type { Outcome } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NEVER, NULL_REF, asBool, asStringMap, asText, isStruct } from "../values";
import type { XapiStruct, XapiValue } from "../values";
import type { World } from "../world";
import { usbLoadRefusal, withUsbPathKey } from "./udev-usb";
import { udevSrView } from "./udev-vdi";
import { genericMethods } from "./generic";
import { VDI_UPSTREAM_FIELDS } from "./upstream-fields";

export const vdiSchema: ClassSchema = {
  name: "VDI",
  fields: {
    ...VDI_UPSTREAM_FIELDS,
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
  derived: { allowed_operations: vdiAllowedOperations },
};

export function isUdevSr(db: Database, sr: string): boolean {
  return db.str(sr, "type") === "udev";
}

/**
 * Forgets a VDI: XAPI deletes its record and nothing else (xen-api `xapi_vdi.ml` `forget` is
 * `Db.VDI.destroy`). VBDs pointing at it keep their dead VDI ref and `currently_attached` until
 * the database GC runs (see ../gc.ts).
 */
export function forgetVdi(db: Database, vdi: string): void {
  db.destroy(vdi);
}

/**
 * xen-api `xapi_vdi.ml` introduce_dbonly (behind VDI.db_introduce / pool_introduce, the way an SM
 * records a VDI it made): a location already in the SR fails LOCATION_NOT_UNIQUE [sr, location]
 * whatever the uuid, a malformed uuid UUID_INVALID ["VDI", uuid]; then the record is made. The
 * seed makes its VDIs through it.
 */
export function introduceVdiDbOnly(db: Database, fields: XapiStruct): Outcome<XapiValue> {
  const sr = asText(fields["SR"]);
  const location = asText(fields["location"]);
  const uuid = asText(fields["uuid"]);
  if (db.find("VDI", (vdi) => vdi["SR"] === sr && vdi["location"] === location).length > 0)
    return Faults.locationNotUnique(sr, location);
  if (!UUID_FORM.test(uuid)) return Faults.uuidInvalid("VDI", uuid);
  return ok(db.create("VDI", fields));
}

/** XAPI checks an introduced UUID's form (8-4-4-4-12 hex digits). */
const UUID_FORM = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** XAPI refuses VDI operations other than live ones (snapshot, clone…) while a VBD has it attached. */
function refuseIfAttached(db: Database, vdi: string, operation: string) {
  const attached = db.find("VBD", (vbd) => vbd["VDI"] === vdi && vbd["currently_attached"] === true);
  return attached.length > 0 ? Faults.vdiInUse(vdi, operation) : undefined;
}

/** VDI.introduce's parameters after the session: nine required, defaults from xenstore_data on (xen-api datamodel). */
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
 * VDI.introduce (xen-api `xapi_vdi.ml` `introduce`): the SR needs a plugged PBD (SR_HAS_NO_PBDS,
 * `Sm.assert_pbd_is_plugged`); a location already in the SR under another uuid fails
 * LOCATION_NOT_UNIQUE [sr, location] (CA-183547 lets the same uuid through that check); then the
 * SM backend introduces it through `VDI.db_introduce`, whose `introduce_dbonly` refuses any known
 * location (whatever the uuid), a malformed uuid, and the database a duplicate uuid. The storage
 * layer turns every SM failure into Vdi_does_not_exist (v25.33.0 `storage_smapiv1.ml`, v1.249.42
 * `storage_access.ml` VDI.introduce), which reaches the client as INTERNAL_ERROR
 * (`storage_utils.ml` transform_storage_exn). So a known location always fails. The caller's
 * other_config, xenstore_data, sharable and type are kept; read_only, managed, the sizes and the
 * rest come from the backend. The udev backend reads the device itself and writes its own
 * sm_config (the caller's is dropped); a non-empty name given by the caller still wins (CA-13140).
 */
async function introduce(db: Database, world: World, args: readonly unknown[]): Promise<Outcome<XapiValue>> {
  const [uuid = "", nameLabel = "", nameDescription = "", sr = "", type = "", location = ""] = [
    0, 1, 2, 3, 4, 8,
  ].map((i) => asText(args[i]));
  const plugged = db.find("PBD", (pbd) => pbd["SR"] === sr && pbd["currently_attached"] === true);
  if (plugged.length === 0) return Faults.srHasNoPbds(sr);
  const sameLocation = db.find("VDI", (vdi) => vdi["SR"] === sr && vdi["location"] === location);
  for (const vdi of sameLocation)
    if (db.str(vdi, "uuid") !== uuid) return Faults.locationNotUnique(sr, location);
  // choice of message text: the storage layer's exception printout is not reproduced.
  if (sameLocation.length > 0)
    return Faults.internalError(`VDI.introduce: the SM refused location ${location} (LOCATION_NOT_UNIQUE)`);
  if (!UUID_FORM.test(uuid)) return Faults.internalError(`VDI.introduce: the SM refused uuid ${uuid}`);
  if (db.find("VDI", (vdi) => vdi["uuid"] === uuid).length > 0)
    return Faults.internalError(`VDI.introduce: uuid ${uuid} is already in use`);
  const fields: XapiStruct = {
    uuid,
    name_label: nameLabel,
    name_description: nameDescription,
    SR: sr,
    type: type || "user",
    sharable: asBool(args[5]) ?? false,
    other_config: asStringMap(args[7]) ?? {},
    location,
    xenstore_data: asStringMap(args[9]) ?? {},
    // choice: a non-udev backend keeps the caller's sm_config.
    sm_config: asStringMap(args[10]) ?? {},
  };
  if (isUdevSr(db, sr)) {
    const listed = (await udevSrView(world, sr)) ?? [];
    const entry = listed.find((device) => device.location === location && device.available);
    // sm loads the VDI before introducing it, so a USB disk whose port is passed through fails
    // (udev-usb.ts); like every SM failure here it reaches the client as INTERNAL_ERROR (above).
    if (entry !== undefined && usbLoadRefusal(db, [entry]) !== undefined)
      return Faults.internalError(`VDI.introduce: the SM refused location ${location} (VDIUnavailable)`);
    Object.assign(fields, {
      virtual_size: entry?.sizeBytes ?? 0,
      physical_utilisation: entry?.sizeBytes ?? 0,
      name_label: nameLabel || (entry?.nameLabel ?? location),
      read_only: entry !== undefined && (asStringMap(db.field(sr, "sm_config")) ?? {})["type"] === "cd",
      // A missing or dangling entry loads as deleted with an empty sm_config (sm udevSR.py udevVDI.load).
      sm_config: entry === undefined ? {} : withUsbPathKey({ hotplugged_at: hotpluggedAt() }, entry),
    });
  }
  return ok(db.create("VDI", fields));
}

/**
 * VDI.allowed_operations, live (a subset of xen-api `xapi_vdi.ml` check_operation_error; which
 * operations are listed is our choice): the udev backend offers no delete, clone, snapshot or
 * resize (sm `udevSR.py` CAPABILITIES), so its VDIs allow forget and update; none while another
 * operation runs, and no forget/destroy/resize while a VBD has the VDI attached.
 */
function vdiAllowedOperations(db: Database, vdi: string): string[] {
  const current = db.raw(vdi, "current_operations");
  if (isStruct(current) && Object.keys(current).length > 0) return [];
  const attached =
    db.find("VBD", (vbd) => vbd["VDI"] === vdi && vbd["currently_attached"] === true).length > 0;
  const offered = isUdevSr(db, db.str(vdi, "SR"))
    ? ["forget", "update"]
    : ["clone", "copy", "destroy", "forget", "resize", "snapshot", "update"];
  return attached ? offered.filter((op) => !["destroy", "forget", "resize"].includes(op)) : offered;
}

const vdiRef = { name: "vdi", kind: "ref", cls: "VDI" } as const;
const srLockOfVdi = (args: readonly unknown[], db: Database) => [`SR:${db.str(String(args[0]), "SR")}`];

export const vdiMethods: MethodSpec[] = [
  ...genericMethods(vdiSchema),
  {
    name: "VDI.introduce",
    params: [...introduceParams],
    optionalParams: 9,
    hasAsync: true,
    locks: (args) => [`SR:${String(args[3])}`],
    handler: ({ db, world }, args) => introduce(db, world, args),
  },
  {
    name: "VDI.forget",
    params: [vdiRef],
    hasAsync: true,
    // xen-api message_forwarding.ml VDI.forget: with_sr_andor_vdi marks the VDI only, no SR lock,
    // so a forget can land inside an SR.scan (see udev-scan.ts).
    locks: (args) => [`VDI:${String(args[0])}`],
    marks: "forget",
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
      // The SR's capabilities are checked before the VDI's state (xen-api message_forwarding.ml,
      // xapi_sr_operations.ml): the udev backend has no VDI_DELETE (sm udevSR.py).
      const sr = db.str(ref, "SR");
      if (isUdevSr(db, sr)) return Faults.srOperationNotSupported(sr);
      const refused = refuseIfAttached(db, ref, "destroy");
      if (refused !== undefined) return refused;
      forgetVdi(db, ref);
      return ok("");
    },
  },
];
