import { randomUUID } from "node:crypto";

import type { XeInvocation } from "./args";
import type { XapiRecord } from "./fields";
import { XE_CLASSES, formatValue } from "./fields";
import { formatMinimal, formatRecords, matchesFilters, selectFields } from "./format";
import type { Call } from "./rpc";

/** What a command prints, and its exit code. */
export interface XeOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const ok = (stdout: string): XeOutput => ({ stdout, stderr: "", exitCode: 0 });
const usage = (message: string): XeOutput => ({ stdout: "", stderr: `${message}\n`, exitCode: 1 });

async function allRecords(call: Call, xapiClass: string): Promise<Map<string, XapiRecord>> {
  const records = (await call(`${xapiClass}.get_all_records`)) as Record<string, XapiRecord>;
  return new Map(Object.entries(records));
}

/** `<class>-list [params=..] [--minimal] [field=value ...]` */
async function list(call: Call, className: string, invocation: XeInvocation): Promise<XeOutput> {
  const cls = XE_CLASSES[className];
  if (cls === undefined) return usage(`Unknown command: ${className}-list`);
  const filters = new Map(invocation.params);
  const params = filters.get("params");
  filters.delete("params");
  const fields = selectFields(cls, params);
  if ("error" in fields) return usage(fields.error);

  const own = await allRecords(call, cls.xapiClass);
  const all = new Map<string, XapiRecord>(own);
  for (const other of cls.follows)
    for (const [ref, record] of await allRecords(call, other)) all.set(ref, record);

  const selected: XapiRecord[] = [];
  for (const record of own.values()) {
    const match = matchesFilters(cls, record, all, filters);
    if (typeof match === "object") return usage(match.error);
    if (match) selected.push(record);
  }
  const first = fields[0];
  if (invocation.minimal && first !== undefined) return ok(formatMinimal(selected, first, all));
  return ok(formatRecords(selected, fields, all));
}

/** `<class>-param-get uuid=.. param-name=.. [param-key=..]` */
async function paramGet(call: Call, className: string, invocation: XeInvocation): Promise<XeOutput> {
  const cls = XE_CLASSES[className];
  const uuid = invocation.params.get("uuid");
  const name = invocation.params.get("param-name");
  if (cls === undefined || uuid === undefined || name === undefined) {
    return usage(`Usage: xe ${className}-param-get uuid=<uuid> param-name=<field> [param-key=<key>]`);
  }
  const field = cls.fields.find((candidate) => candidate.name === name);
  if (field === undefined) return usage(`Unknown field '${name}'`);
  const ref = (await call(`${cls.xapiClass}.get_by_uuid`, uuid)) as string;
  const record = (await call(`${cls.xapiClass}.get_record`, ref)) as XapiRecord;
  const all = new Map<string, XapiRecord>([[ref, record]]);
  for (const other of cls.follows)
    for (const [key, value] of await allRecords(call, other)) all.set(key, value);
  const key = invocation.params.get("param-key");
  if (key !== undefined) {
    const map = record[name.replace(/-/g, "_")];
    const value = typeof map === "object" && map !== null ? (map as Record<string, unknown>)[key] : undefined;
    if (value === undefined) return usage(`Key ${key} not found in map`);
    return ok(`${formatValue(value)}\n`);
  }
  return ok(`${field.read(record, all)}\n`);
}

/**
 * `<class>-param-set uuid=.. field=value map-field:key=value ...`: as xen-api's cli_operations.ml
 * make_param_funs p_set does it, a map key is set by remove_from_<map> (when present) then
 * add_to_<map>; a plain field by its setter. Only RW/MRW fields are settable.
 */
async function paramSet(call: Call, className: string, invocation: XeInvocation): Promise<XeOutput> {
  const cls = XE_CLASSES[className];
  const uuid = invocation.params.get("uuid");
  if (cls === undefined || uuid === undefined)
    return usage(`Usage: xe ${className}-param-set uuid=<uuid> ...`);
  const ref = (await call(`${cls.xapiClass}.get_by_uuid`, uuid)) as string;
  for (const [name, value] of invocation.params) {
    if (name === "uuid") continue;
    const colon = name.indexOf(":");
    const fieldName = colon > 0 ? name.slice(0, colon) : name;
    const field = cls.fields.find((candidate) => candidate.name === fieldName);
    if (field === undefined) return usage(`Unknown field '${name}'`);
    const xapiName = field.name.replace(/-/g, "_");
    if (colon > 0) {
      if (field.access !== "MRW") return usage(`Map field '${field.name}' is read-only.`);
      const key = name.slice(colon + 1);
      const record = (await call(`${cls.xapiClass}.get_record`, ref)) as XapiRecord;
      const map = (record[xapiName] ?? {}) as Record<string, unknown>;
      if (key in map) await call(`${cls.xapiClass}.remove_from_${xapiName}`, ref, key);
      await call(`${cls.xapiClass}.add_to_${xapiName}`, ref, key, value);
    } else {
      if (field.access !== "RW") return usage(`Field '${name}' is read-only.`);
      if (field.set === undefined) await call(`${cls.xapiClass}.set_${xapiName}`, ref, value);
      else {
        // xapi_cli.ml prints a Record_failure as "Error: <message>".
        const refused = await field.set(call, ref, value);
        if (refused !== undefined) return usage(`Error: ${refused}`);
      }
    }
  }
  return ok("");
}

function required(invocation: XeInvocation, names: readonly string[]): string[] | XeOutput {
  const missing = names.filter((name) => !invocation.params.has(name));
  if (missing.length > 0) return usage(`Required parameter not found: ${missing.join(", ")}`);
  return names.map((name) => invocation.params.get(name) ?? "");
}

const truthy = (value: string | undefined, fallback: boolean): boolean =>
  value === undefined ? fallback : ["true", "yes", "on", "1"].includes(value.toLowerCase());

async function uuidOf(call: Call, xapiClass: string, ref: unknown): Promise<XeOutput> {
  return ok(`${String(await call(`${xapiClass}.get_uuid`, ref))}\n`);
}

type Action = (call: Call, invocation: XeInvocation) => Promise<XeOutput>;

/** The operations local-device-change and users need. */
const ACTIONS: Record<string, Action> = {
  "sr-scan": async (call, invocation) => {
    const args = required(invocation, ["uuid"]);
    if (!Array.isArray(args)) return args;
    await call("SR.scan", await call("SR.get_by_uuid", args[0]));
    return ok("");
  },
  "vdi-introduce": async (call, invocation) => {
    const args = required(invocation, ["sr-uuid", "type", "location"]);
    if (!Array.isArray(args)) return args;
    const [srUuid, type, location] = args;
    const p = invocation.params;
    const sr = await call("SR.get_by_uuid", srUuid);
    const vdi = await call(
      "VDI.introduce",
      p.get("uuid") ?? randomUUID(),
      p.get("name-label") ?? "",
      p.get("name-description") ?? "",
      sr,
      type,
      truthy(p.get("sharable"), false),
      truthy(p.get("read-only"), false),
      {},
      location,
      {},
      {},
      truthy(p.get("managed"), true),
      0,
      0,
      "OpaqueRef:NULL",
      false,
      "19700101T00:00:00Z",
      "OpaqueRef:NULL",
    );
    return uuidOf(call, "VDI", vdi);
  },
  "vdi-forget": async (call, invocation) => {
    const args = required(invocation, ["uuid"]);
    if (!Array.isArray(args)) return args;
    await call("VDI.forget", await call("VDI.get_by_uuid", args[0]));
    return ok("");
  },
  "vbd-create": async (call, invocation) => {
    const args = required(invocation, ["vm-uuid", "vdi-uuid", "device"]);
    if (!Array.isArray(args)) return args;
    const [vmUuid, vdiUuid, device] = args;
    const p = invocation.params;
    const mode = (p.get("mode") ?? "RW").toUpperCase();
    const type = p.get("type") ?? "Disk";
    const vbd = await call("VBD.create", {
      VM: await call("VM.get_by_uuid", vmUuid),
      VDI: await call("VDI.get_by_uuid", vdiUuid),
      userdevice: device,
      bootable: truthy(p.get("bootable"), false),
      mode,
      type: type.charAt(0).toUpperCase() + type.slice(1).toLowerCase(),
      empty: false,
      unpluggable: truthy(p.get("unpluggable"), true),
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
    return uuidOf(call, "VBD", vbd);
  },
  "vbd-plug": async (call, invocation) => {
    const args = required(invocation, ["uuid"]);
    if (!Array.isArray(args)) return args;
    await call("VBD.plug", await call("VBD.get_by_uuid", args[0]));
    return ok("");
  },
  "vbd-unplug": async (call, invocation) => {
    const args = required(invocation, ["uuid"]);
    if (!Array.isArray(args)) return args;
    const force = truthy(invocation.params.get("force"), false);
    await call(force ? "VBD.unplug_force" : "VBD.unplug", await call("VBD.get_by_uuid", args[0]));
    return ok("");
  },
  // cli_operations.ml PUSB.scan / VUSB.create / unplug / destroy, with cli_frontend.ml's
  // required parameters. vusb-create prints the new VUSB's uuid.
  "pusb-scan": async (call, invocation) => {
    const args = required(invocation, ["host-uuid"]);
    if (!Array.isArray(args)) return args;
    await call("PUSB.scan", await call("host.get_by_uuid", args[0]));
    return ok("");
  },
  "vusb-create": async (call, invocation) => {
    const args = required(invocation, ["usb-group-uuid", "vm-uuid"]);
    if (!Array.isArray(args)) return args;
    const [groupUuid, vmUuid] = args;
    const vm = await call("VM.get_by_uuid", vmUuid);
    const group = await call("USB_group.get_by_uuid", groupUuid);
    return uuidOf(call, "VUSB", await call("VUSB.create", vm, group, {}));
  },
  "vusb-unplug": async (call, invocation) => {
    const args = required(invocation, ["uuid"]);
    if (!Array.isArray(args)) return args;
    await call("VUSB.unplug", await call("VUSB.get_by_uuid", args[0]));
    return ok("");
  },
  "vusb-destroy": async (call, invocation) => {
    const args = required(invocation, ["uuid"]);
    if (!Array.isArray(args)) return args;
    await call("VUSB.destroy", await call("VUSB.get_by_uuid", args[0]));
    return ok("");
  },
  "vbd-destroy": async (call, invocation) => {
    const args = required(invocation, ["uuid"]);
    if (!Array.isArray(args)) return args;
    await call("VBD.destroy", await call("VBD.get_by_uuid", args[0]));
    return ok("");
  },
};

/** Runs one parsed xe command in a session. */
export function runXeCommand(call: Call, invocation: XeInvocation): Promise<XeOutput> {
  const { command } = invocation;
  const action = ACTIONS[command];
  if (action !== undefined) return action(call, invocation);
  const listMatch = /^([a-z-]+)-list$/.exec(command);
  if (listMatch?.[1] !== undefined) return list(call, listMatch[1], invocation);
  const getMatch = /^([a-z-]+)-param-get$/.exec(command);
  if (getMatch?.[1] !== undefined) return paramGet(call, getMatch[1], invocation);
  const setMatch = /^([a-z-]+)-param-set$/.exec(command);
  if (setMatch?.[1] !== undefined) return paramSet(call, setMatch[1], invocation);
  return Promise.resolve(usage(`Unknown command: ${command}`));
}

/** Whether a command exists (checked before logging in, like xe's own syntax check). */
export function isKnownCommand(command: string): boolean {
  if (command in ACTIONS) return true;
  const match = /^([a-z-]+?)-(list|param-get|param-set)$/.exec(command);
  return match?.[1] !== undefined && match[1] in XE_CLASSES;
}
