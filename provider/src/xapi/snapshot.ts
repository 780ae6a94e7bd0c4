// Every record the lifecycle reads, fetched in one round of get_all_records calls, so that
// looking at one disk or at sixteen costs the same number of XAPI calls. The lookups by class
// (host.ts, sr.ts, vm.ts, vdi.ts) are pure functions of it.
import type { XapiCaller } from "./caller.js";
import type {
  HostRecord,
  PbdRecord,
  Ref,
  SrRecord,
  VbdRecord,
  VdiRecord,
  VmGuestMetricsRecord,
  VmRecord,
  WithRef,
} from "./records.js";
import { fetchAllRecords } from "./records.js";

export interface XapiSnapshot {
  readonly hosts: readonly WithRef<HostRecord>[];
  readonly srs: readonly WithRef<SrRecord>[];
  readonly pbds: readonly WithRef<PbdRecord>[];
  readonly vms: readonly WithRef<VmRecord>[];
  readonly vdis: readonly WithRef<VdiRecord>[];
  readonly vbds: readonly WithRef<VbdRecord>[];
  /** Guest agents' reports: whether a running HVM guest can hot-plug a disk (xapi/guest.ts). */
  readonly guestMetrics: readonly WithRef<VmGuestMetricsRecord>[];
}

export function fetchSnapshot(xapi: XapiCaller): Promise<XapiSnapshot> {
  return fetchAllRecords<XapiSnapshot>(xapi, {
    hosts: "host",
    srs: "SR",
    pbds: "PBD",
    vms: "VM",
    vdis: "VDI",
    vbds: "VBD",
    guestMetrics: "VM_guest_metrics",
  });
}

/** The records a scan can change: the SR's VDIs, and VBDs (XAPI's GC drops those of a forgotten VDI). */
export type DiskRecords = Pick<XapiSnapshot, "vdis" | "vbds">;

/**
 * After an SR scan, only VDIs and VBDs need fetching again: hosts, SRs, PBDs, VMs and guest
 * metrics are the look's (a scan touches none of them), so two calls rather than seven.
 */
export function fetchDiskRecords(xapi: XapiCaller): Promise<DiskRecords> {
  return fetchAllRecords<DiskRecords>(xapi, { vdis: "VDI", vbds: "VBD" });
}

/** uuid of a VM or VDI ref; "" for a dangling ref (a VDI forgotten under a VBD). */
export function uuidOf(snapshot: XapiSnapshot, ref: Ref): string {
  return [...snapshot.vms, ...snapshot.vdis].find((record) => record.$ref === ref)?.uuid ?? "";
}
