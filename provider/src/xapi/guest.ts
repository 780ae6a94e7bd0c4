// What kind of guest a VM is, as XAPI itself decides it: whether its disks are emulated by qemu
// (HVM: read-only disks refused) and whether a running guest can hot-plug a disk (PV drivers).
import type { Ref, VmGuestMetricsRecord, VmRecord, WithRef } from "./records.js";
import type { XapiSnapshot } from "./snapshot.js";

/**
 * HVM (a qemu device model): xen-api `helpers.ml` `has_qemu` reads the domain type; hosts older
 * than domain_type (XenServer < 7.5) decide by HVM_boot_policy being set.
 */
export function isHvm(vm: Pick<VmRecord, "domain_type" | "HVM_boot_policy">): boolean {
  const type = vm.domain_type ?? "unspecified";
  return type === "unspecified" ? (vm.HVM_boot_policy ?? "") !== "" : type === "hvm";
}

/** Drivers count as present when PV_drivers_version has integer major and minor (xen-api `xapi_pv_driver_version.ml`). */
function hasDriverVersion(metrics: VmGuestMetricsRecord): boolean {
  const version = metrics.PV_drivers_version ?? {};
  return ["major", "minor"].every((key) => /^-?\d+$/.test(String(version[key] ?? "")));
}

/**
 * Whether VBD.plug/unplug can run on this VM now (xen-api `xapi_vbd_helpers.ml`,
 * valid_operations): always on a PV guest or a halted one; a running HVM guest needs its guest
 * agent to report hot-plug support (`can_use_hotplug_vbd`) or PV drivers.
 */
export function canHotplugDisks(
  snapshot: Pick<XapiSnapshot, "guestMetrics">,
  vm: Pick<VmRecord, "domain_type" | "HVM_boot_policy" | "power_state" | "guest_metrics">,
): boolean {
  if (vm.power_state !== "Running" || !isHvm(vm)) return true;
  const metrics = snapshot.guestMetrics.find(
    (record: WithRef<VmGuestMetricsRecord>) => record.$ref === vm.guest_metrics,
  );
  if (metrics === undefined) return false;
  switch (metrics.can_use_hotplug_vbd) {
    case "yes":
      return true;
    case "no":
      return false;
    default:
      return metrics.PV_drivers_detected === true || hasDriverVersion(metrics);
  }
}

/** A host reference that points nowhere ("OpaqueRef:NULL" or a dangling one) reads as "". */
export function hostUuidOf(snapshot: Pick<XapiSnapshot, "hosts">, ref: Ref): string {
  return snapshot.hosts.find((host) => host.$ref === ref)?.uuid ?? "";
}
