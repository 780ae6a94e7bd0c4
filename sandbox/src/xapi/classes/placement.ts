// Where a VM may run in a pool: SR reachability (xen-api ocaml/xapi/xapi_vm_helpers.ml
// which_specified_SRs_not_available_on_host, assert_can_see_SRs) and host choice
// (xapi_vm_placement.ml select_host, vm_placement.ml select_host_from_summary).
import type { Database } from "../database";
import { fail } from "../faults";
import type { Outcome } from "../faults";
import { NULL_REF } from "../values";
import { usbsUnavailableOn } from "./vusb";

/** SRs a host reaches: those of its PBDs that are currently attached. */
export function srsReachableFrom(db: Database, host: string): Set<string> {
  return new Set(
    db
      .find("PBD", (pbd) => pbd["host"] === host && pbd["currently_attached"] === true)
      .map((pbd) => db.str(pbd, "SR")),
  );
}

/** SRs a VM needs: those of the VDIs of its non-empty VBDs (a VBD whose VDI is gone is skipped). */
export function srsNeededBy(db: Database, vm: string): string[] {
  return db
    .find("VBD", (vbd) => vbd["VM"] === vm && vbd["empty"] !== true)
    .map((vbd) => db.str(vbd, "VDI"))
    .filter((vdi) => db.has(vdi, "VDI"))
    .map((vdi) => db.str(vdi, "SR"));
}

/** The first SR the VM needs that `host` cannot reach, if any. */
export function firstUnreachableSr(db: Database, vm: string, host: string): string | undefined {
  const reachable = srsReachableFrom(db, host);
  return srsNeededBy(db, vm).find((sr) => !reachable.has(sr));
}

/** assert_can_see_SRs: `VM_REQUIRES_SR [vm, first unreachable SR]`. */
export function checkHostSeesSrs(db: Database, vm: string, host: string): Outcome<never> | undefined {
  const missing = firstUnreachableSr(db, vm, host);
  return missing === undefined ? undefined : fail("VM_REQUIRES_SR", vm, missing);
}

/**
 * The host VM.start places a VM on: its affinity host when that host can run it (reaches its SRs
 * and holds the PUSBs of its VUSBs, assert_can_boot_here), else a host that can; `NO_HOSTS_AVAILABLE []` when none can. Among several fitting hosts upstream draws at
 * random, biased towards free memory; we take the first in pool order (master first), our choice,
 * so that tests are deterministic.
 */
export function chooseHostForVm(db: Database, vm: string, hosts: readonly string[]): Outcome<string> {
  const affinity = db.str(vm, "affinity");
  const candidates =
    affinity !== NULL_REF && hosts.includes(affinity)
      ? [affinity, ...hosts.filter((host) => host !== affinity)]
      : hosts;
  const chosen = candidates.find(
    (host) => firstUnreachableSr(db, vm, host) === undefined && usbsUnavailableOn(db, vm, host) === undefined,
  );
  return chosen === undefined ? fail("NO_HOSTS_AVAILABLE") : { ok: true, value: chosen };
}

/**
 * VBD.plug runs on the host the VM is resident on (message_forwarding.ml forward_vbd_op), where
 * xenopsd asks the local storage layer to attach the VDI. A host with no attached PBD for the
 * VDI's SR has no storage plugin for it (storage_mux_reg.ml: No_storage_plugin_for_sr); xenopsd
 * reports that exception as its Internal_error (xenops_interface.ml matcher, printed by
 * storage_interface.ml's printer), and xapi_xenops.ml transform_xenops_exn turns it into
 * INTERNAL_ERROR ["xenopsd internal error: <printed exception>"].
 */
export function checkPlugReachesSr(db: Database, vbd: string): Outcome<never> | undefined {
  const vdi = db.str(vbd, "VDI");
  if (db.bool(vbd, "empty") || !db.has(vdi, "VDI")) return undefined;
  const host = db.str(db.str(vbd, "VM"), "resident_on");
  const sr = db.str(vdi, "SR");
  if (!db.has(host, "host") || srsReachableFrom(db, host).has(sr)) return undefined;
  return fail(
    "INTERNAL_ERROR",
    `xenopsd internal error: Storage_error ([S(No_storage_plugin_for_sr);S(${db.str(sr, "uuid")})])`,
  );
}
