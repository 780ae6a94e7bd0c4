// The XAPI record fields we read, with XAPI's own names. Refs are "OpaqueRef:..." strings.
import type { XapiCaller } from "./caller.js";

export type Ref = string;

export interface HostRecord {
  uuid: string;
  name_label: string;
}

export interface VmRecord {
  uuid: string;
  name_label: string;
  power_state: "Running" | "Halted" | "Paused" | "Suspended";
  is_control_domain: boolean;
  is_a_template: boolean;
  VBDs: Ref[];
  /** "hvm", "pv", "pvh", "pv_in_pvh" or "unspecified" (absent before XAPI 1.x of XenServer 7.5). */
  domain_type?: string;
  /** Non-empty for an HVM guest; what decided HVM before domain_type existed. */
  HVM_boot_policy: string;
  guest_metrics: Ref;
  /** The host the VM runs on (NULL ref when not running). */
  resident_on: Ref;
  /** The host VM.start prefers (NULL ref: none). */
  affinity: Ref;
}

/** What the guest agent reported (the fields that decide whether VBDs can be hot-plugged). */
export interface VmGuestMetricsRecord {
  PV_drivers_version: Record<string, string>;
  PV_drivers_detected?: boolean;
  can_use_hotplug_vbd?: "yes" | "no" | "unspecified";
}

export interface SrRecord {
  uuid: string;
  name_label: string;
  type: string;
  content_type: string;
  sm_config: Record<string, string>;
  PBDs: Ref[];
  VDIs: Ref[];
}

export interface PbdRecord {
  uuid: string;
  host: Ref;
  SR: Ref;
  /** The SR is attached on that host (xe pbd-plug / pbd-unplug). */
  currently_attached: boolean;
}

export interface VdiRecord {
  uuid: string;
  SR: Ref;
  location: string;
  virtual_size: string | number;
  VBDs: Ref[];
}

export interface VbdRecord {
  uuid: string;
  VM: Ref;
  VDI: Ref;
  userdevice: string;
  device: string;
  mode: "RW" | "RO";
  type: string;
  bootable: boolean;
  currently_attached: boolean;
  other_config: Record<string, string>;
}

/** A record together with its reference. */
export type WithRef<T> = T & { readonly $ref: Ref };

export function withRefs<T>(records: Record<Ref, T>): WithRef<T>[] {
  return Object.entries(records).map(([$ref, record]) => ({ ...record, $ref }));
}

/**
 * Every record of each named class, in one round of parallel get_all_records calls:
 * `classes` maps each field of the result to its XAPI class name.
 */
export async function fetchAllRecords<S extends { readonly [K in keyof S]: readonly WithRef<unknown>[] }>(
  xapi: XapiCaller,
  classes: { readonly [K in keyof S]: string },
): Promise<S> {
  const fields = Object.keys(classes) as (keyof S)[];
  const lists = await Promise.all(
    fields.map(async (field) =>
      withRefs(await xapi.call<Record<Ref, unknown>>(`${classes[field]}.get_all_records`)),
    ),
  );
  // Each field holds the list of its class, as S declares it.
  return Object.fromEntries(fields.map((field, i) => [field, lists[i]])) as unknown as S;
}
