/** A record as XAPI returns it. */
export type XapiRecord = Record<string, unknown>;

/** Every record xe has fetched, by opaque reference, to follow references (VBD.VM -> VM uuid). */
export type RecordsByRef = ReadonlyMap<string, XapiRecord>;

/** An XAPI call in xe's session (see rpc.ts). */
type Call = (method: string, ...params: unknown[]) => Promise<unknown>;

/** One field of an xe class: its xe name, how xe labels its access, and how it reads a record. */
export interface XeField {
  name: string;
  access: "RO" | "RW" | "MRO" | "MRW" | "SRO";
  read(record: XapiRecord, all: RecordsByRef): string;
  /**
   * A field xe sets through a call of its own instead of `set_<field>` (records.ml `~set`), e.g.
   * PUSB passthrough-enabled -> PUSB.set_passthrough_enabled. Returns an error message for bad input.
   */
  set?(call: Call, ref: string, value: string): Promise<string | undefined>;
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

/** Pure: a float as OCaml's string_of_float prints it (xe's PUSB speed): 12 -> "12.", 1.5 -> "1.5". */
export function ocamlFloat(value: number): string {
  const text = String(Number(value.toPrecision(12)));
  return /^-?\d+$/.test(text) ? `${text}.` : text;
}

/** The operations of a current_operations map (task -> operation), as xe lists them. */
const currentOperations: XeField = {
  name: "current-operations",
  access: "SRO",
  read: (record) => {
    const ops = record["current_operations"];
    return typeof ops === "object" && ops !== null ? Object.values(ops).map(formatValue).join("; ") : "";
  },
};

/**
 * PUSB passthrough-enabled: records.ml reads the value with safe_bool_of_string, which uses
 * OCaml's own bool_of_string (exactly "true" or "false"; the same in xapi v1.249.x and v25.x).
 */
const passthroughEnabled: XeField = {
  name: "passthrough-enabled",
  access: "RW",
  read: (record) => formatValue(record["passthrough_enabled"]),
  async set(call, ref, value) {
    if (value !== "true" && value !== "false")
      return "Failed to parse parameter 'passthrough-enabled': expecting a boolean (true or false)";
    await call("PUSB.set_passthrough_enabled", ref, value === "true");
    return undefined;
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
  // The USB classes: fields and list defaults as xen-api's records.ml (pusb_record,
  // usb_group_record, vusb_record) and cli_operations.ml gen_cmds list them, in their order; the
  // same in xapi v1.249.x (XCP-ng 8.2) and v25.x (8.3).
  pusb: {
    xapiClass: "PUSB",
    fields: [
      plain("uuid", "uuid"),
      follow("usb-group-uuid", "USB_group", "uuid"),
      follow("host-uuid", "host", "uuid"),
      follow("host-name-label", "host", "name_label"),
      plain("path", "path"),
      plain("vendor-id", "vendor_id"),
      plain("vendor-desc", "vendor_desc"),
      plain("product-id", "product_id"),
      plain("product-desc", "product_desc"),
      plain("serial", "serial"),
      plain("version", "version"),
      plain("description", "description"),
      { name: "speed", access: "RO", read: (record) => ocamlFloat(Number(record["speed"])) },
      passthroughEnabled,
    ],
    defaults: [
      "uuid",
      "path",
      "product-id",
      "product-desc",
      "vendor-id",
      "vendor-desc",
      "serial",
      "version",
      "description",
      "speed",
    ],
    follows: ["USB_group", "host"],
  },
  "usb-group": {
    xapiClass: "USB_group",
    fields: [
      ...COMMON,
      followSet("VUSB-uuids", "VUSBs", "uuid"),
      followSet("PUSB-uuids", "PUSBs", "uuid"),
      plain("other-config", "other_config", "MRW"),
    ],
    defaults: ["uuid", "name-label", "name-description"],
    follows: ["VUSB", "PUSB"],
  },
  vusb: {
    xapiClass: "VUSB",
    fields: [
      plain("uuid", "uuid"),
      follow("vm-uuid", "VM", "uuid"),
      follow("vm-name-label", "VM", "name_label"),
      follow("usb-group-uuid", "USB_group", "uuid"),
      follow("usb-group-name-label", "USB_group", "name_label"),
      plain("other-config", "other_config", "MRW"),
      plain("currently-attached", "currently_attached"),
      { ...plain("allowed-operations", "allowed_operations"), access: "SRO" },
      currentOperations,
    ],
    defaults: ["uuid", "vm-uuid", "usb-group-uuid"],
    follows: ["VM", "USB_group"],
  },
};
