// The XAPI record fields we read, with XAPI's own names. Refs are "OpaqueRef:..." strings.

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
