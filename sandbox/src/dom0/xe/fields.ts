/** A record as XAPI returns it. */
export type XapiRecord = Record<string, unknown>;

/** Every record xe has fetched, by opaque reference, to follow references (VBD.VM -> VM uuid). */
export type RecordsByRef = ReadonlyMap<string, XapiRecord>;

/** One field of an xe class: its xe name, how xe labels its access, and how it reads a record. */
export interface XeField {
  name: string;
  access: "RO" | "RW" | "MRO" | "MRW" | "SRO";
  read(record: XapiRecord, all: RecordsByRef): string;
}

/** One xe class ("vm", "vbd", ...) and the XAPI class behind it. */
export interface XeClass {
  xapiClass: string;
  fields: XeField[];
  /** The fields `<class>-list` shows without params=. */
  defaults: string[];
  /** Other XAPI classes whose records the fields follow references into. */
  follows: string[];
}

/** Pure: a value as xe prints it (maps "k: v; k2: v2", sets "a; b"). */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "<not in database>";
  if (Array.isArray(value)) return value.map(formatValue).join("; ");
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => `${key}: ${formatValue(item)}`)
      .join("; ");
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

const plain = (name: string, xapiField: string, access: XeField["access"] = "RO"): XeField => ({
  name,
  access,
  read: (record) => formatValue(record[xapiField]),
});

const lowercase = (name: string, xapiField: string): XeField => ({
  name,
  access: "RO",
  read: (record) => formatValue(record[xapiField]).toLowerCase(),
});

/** A field that follows a reference and shows a field of the target ("<not in database>" if gone). */
const follow = (name: string, xapiField: string, targetField: string): XeField => ({
  name,
  access: "RO",
  read: (record, all) => {
    const ref = record[xapiField];
    const target = typeof ref === "string" ? all.get(ref) : undefined;
    return target === undefined ? "<not in database>" : formatValue(target[targetField]);
  },
});

const followSet = (name: string, xapiField: string, targetField: string): XeField => ({
  name,
  access: "SRO",
  read: (record, all) => {
    const refs = record[xapiField];
    if (!Array.isArray(refs)) return "";
    return refs.map((ref) => formatValue(all.get(String(ref))?.[targetField])).join("; ");
  },
});

/** An SR's host as xe shows it: the name of the host its PBD is on, "<shared>" for a shared SR. */
const hostOfSr: XeField = {
  name: "host",
  access: "RO",
  read: (record, all) => {
    if (record["shared"] === true) return "<shared>";
    const pbds = Array.isArray(record["PBDs"]) ? record["PBDs"] : [];
    const hostRef = pbds.length > 0 ? all.get(String(pbds[0]))?.["host"] : undefined;
    const host = typeof hostRef === "string" ? all.get(hostRef) : undefined;
    return host === undefined ? "<not in database>" : formatValue(host["name_label"]);
  },
};

const COMMON = [
  plain("uuid", "uuid"),
  plain("name-label", "name_label", "RW"),
  plain("name-description", "name_description", "RW"),
];

/** The classes this xe stand-in knows, with the fields local-device-change and users need. */
export const XE_CLASSES: Record<string, XeClass> = {
  vm: {
    xapiClass: "VM",
    fields: [
      ...COMMON,
      lowercase("power-state", "power_state"),
      plain("is-control-domain", "is_control_domain"),
      follow("resident-on", "resident_on", "uuid"),
      plain("other-config", "other_config", "MRW"),
    ],
    defaults: ["uuid", "name-label", "power-state"],
    follows: ["host"],
  },
  host: {
    xapiClass: "host",
    fields: [
      ...COMMON,
      plain("address", "address"),
      plain("enabled", "enabled"),
      plain("other-config", "other_config", "MRW"),
    ],
    defaults: ["uuid", "name-label", "name-description"],
    follows: [],
  },
  sr: {
    xapiClass: "SR",
    fields: [
      ...COMMON,
      hostOfSr,
      plain("type", "type"),
      plain("content-type", "content_type"),
      plain("shared", "shared"),
      plain("sm-config", "sm_config", "MRO"),
      plain("other-config", "other_config", "MRW"),
    ],
    defaults: ["uuid", "name-label", "name-description", "host", "type", "content-type"],
    follows: ["PBD", "host"],
  },
  pbd: {
    xapiClass: "PBD",
    fields: [
      plain("uuid", "uuid"),
      follow("host-uuid", "host", "uuid"),
      follow("sr-uuid", "SR", "uuid"),
      plain("device-config", "device_config", "MRO"),
      plain("currently-attached", "currently_attached"),
    ],
    defaults: ["uuid", "host-uuid", "sr-uuid", "device-config", "currently-attached"],
    follows: ["host", "SR"],
  },
  vdi: {
    xapiClass: "VDI",
    fields: [
      ...COMMON,
      follow("sr-uuid", "SR", "uuid"),
      followSet("vbd-uuids", "VBDs", "uuid"),
      plain("virtual-size", "virtual_size"),
      plain("physical-utilisation", "physical_utilisation"),
      plain("type", "type"),
      plain("sharable", "sharable"),
      plain("read-only", "read_only"),
      plain("managed", "managed"),
      plain("location", "location"),
      plain("sm-config", "sm_config", "MRO"),
      plain("other-config", "other_config", "MRW"),
    ],
    defaults: ["uuid", "name-label", "name-description", "sr-uuid", "virtual-size", "sharable", "read-only"],
    follows: ["SR", "VBD"],
  },
  vbd: {
    xapiClass: "VBD",
    fields: [
      plain("uuid", "uuid"),
      follow("vm-uuid", "VM", "uuid"),
      follow("vm-name-label", "VM", "name_label"),
      follow("vdi-uuid", "VDI", "uuid"),
      follow("vdi-name-label", "VDI", "name_label"),
      plain("empty", "empty"),
      plain("device", "device"),
      plain("userdevice", "userdevice", "RW"),
      plain("bootable", "bootable", "RW"),
      plain("mode", "mode", "RW"),
      plain("type", "type", "RW"),
      plain("unpluggable", "unpluggable", "RW"),
      plain("currently-attached", "currently_attached"),
      plain("other-config", "other_config", "MRW"),
    ],
    defaults: ["uuid", "vm-uuid", "vm-name-label", "vdi-uuid", "empty", "device"],
    follows: ["VM", "VDI"],
  },
};
