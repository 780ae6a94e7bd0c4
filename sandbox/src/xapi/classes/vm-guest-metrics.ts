import type { ClassSchema, Database } from "../database";
import type { MethodSpec } from "../dispatch/method";
import { NEVER, NULL_REF, isStruct } from "../values";
import type { XapiStruct } from "../values";
import { genericMethods } from "./generic";
import { HVM_PLATFORM } from "./upstream-fields";

/** What the guest agent reported (xen-api datamodel VM_guest_metrics; the fields a client reads). */
export const vmGuestMetricsSchema: ClassSchema = {
  name: "VM_guest_metrics",
  fields: {
    uuid: "",
    os_version: {},
    netbios_name: {},
    PV_drivers_version: {},
    PV_drivers_up_to_date: false,
    PV_drivers_detected: false,
    memory: {},
    disks: {},
    networks: {},
    other: {},
    last_updated: NEVER,
    other_config: {},
    live: false,
    can_use_hotplug_vbd: "unspecified",
    can_use_hotplug_vif: "unspecified",
    services: {},
  },
};

export const vmGuestMetricsMethods: MethodSpec[] = genericMethods(vmGuestMetricsSchema);

/**
 * The kinds of guest the simulator seeds:
 * - "hvm": HVM with the guest agent and PV drivers (most guests today; PV is deprecated);
 * - "hvm-no-pv-drivers": HVM, no drivers detected (a fresh install, or no guest tools);
 * - "hvm-no-hotplug": HVM whose drivers state they cannot hot-plug VBDs (feature/hotplug/vbd = 0);
 * - "pv": a paravirtualised guest (domain_type pv, booted by pygrub).
 */
export type GuestKind = "hvm" | "hvm-no-pv-drivers" | "hvm-no-hotplug" | "pv";

export const GUEST_KINDS: readonly GuestKind[] = ["hvm", "hvm-no-pv-drivers", "hvm-no-hotplug", "pv"];

/** The VM fields that make a guest HVM or PV, as XAPI exposes them. */
export function guestVmFields(kind: GuestKind): XapiStruct {
  return kind === "pv"
    ? { domain_type: "pv", HVM_boot_policy: "", PV_bootloader: "pygrub", platform: {} }
    : {
        domain_type: "hvm",
        HVM_boot_policy: "BIOS order",
        HVM_boot_params: { order: "cd" },
        PV_bootloader: "",
        platform: { ...HVM_PLATFORM },
      };
}

/**
 * What a guest agent reports. The version map is what xen-api `xapi_pv_driver_version.ml` parses
 * (major and minor required); `other` carries the `control/feature-*` flags (values: our choice,
 * those of a current Linux guest agent); can_use_hotplug_vbd comes from `feature/hotplug/vbd`
 * (xen-api `xapi_guest_agent.ml`).
 */
export function guestMetricsFields(kind: GuestKind): XapiStruct {
  const drivers = kind !== "hvm-no-pv-drivers";
  return {
    os_version: { name: "Debian GNU/Linux 12 (bookworm)", distro: "debian", major: "12", minor: "0" },
    PV_drivers_version: drivers ? { major: "8", minor: "4", micro: "0" } : {},
    PV_drivers_up_to_date: drivers,
    PV_drivers_detected: drivers,
    other: drivers
      ? {
          "feature-poweroff": "1",
          "feature-reboot": "1",
          "feature-suspend": "1",
          "feature-vcpu-hotplug": "1",
        }
      : {},
    can_use_hotplug_vbd: kind === "hvm-no-hotplug" ? "no" : "unspecified",
    live: drivers,
    last_updated: new Date(),
  };
}

/** Creates the guest's metrics record (or replaces what it reports) and links it to the VM. */
export function reportGuestMetrics(db: Database, vm: string, kind: GuestKind): string {
  const existing = db.str(vm, "guest_metrics");
  if (db.has(existing, "VM_guest_metrics")) {
    db.update(existing, guestMetricsFields(kind));
    return existing;
  }
  const metrics = db.create("VM_guest_metrics", guestMetricsFields(kind));
  db.update(vm, { guest_metrics: metrics });
  return metrics;
}

/** The guest metrics record of a VM, if any (a VM whose agent never ran has none). */
export function guestMetricsOf(db: Database, vm: string): XapiStruct | undefined {
  const ref = db.str(vm, "guest_metrics");
  if (ref === NULL_REF || !db.has(ref, "VM_guest_metrics")) return undefined;
  const record = db.record(ref);
  return isStruct(record) ? record : undefined;
}
