// Every record the lifecycle reads, fetched in one round of get_all_records calls, so that
// looking at one disk or at sixteen costs the same number of XAPI calls. Lookups are pure.
import { describeVm } from "../core/identity.js";
import type { VmIdentity } from "../core/inputs.js";
import type { XapiCaller } from "./caller.js";
import type { PbdRecord, Ref, SrRecord, VbdRecord, VdiRecord, VmRecord, WithRef } from "./records.js";
import { withRefs } from "./records.js";

export interface HostRecord {
  uuid: string;
  name_label: string;
}

export interface XapiSnapshot {
  readonly hosts: readonly WithRef<HostRecord>[];
  readonly srs: readonly WithRef<SrRecord>[];
  readonly pbds: readonly WithRef<PbdRecord>[];
  readonly vms: readonly WithRef<VmRecord>[];
  readonly vdis: readonly WithRef<VdiRecord>[];
  readonly vbds: readonly WithRef<VbdRecord>[];
}

export async function fetchSnapshot(xapi: XapiCaller): Promise<XapiSnapshot> {
  const all = async <T>(cls: string) => withRefs(await xapi.call<Record<Ref, T>>(`${cls}.get_all_records`));
  const [hosts, srs, pbds, vms, vdis, vbds] = await Promise.all([
    all<HostRecord>("host"),
    all<SrRecord>("SR"),
    all<PbdRecord>("PBD"),
    all<VmRecord>("VM"),
    all<VdiRecord>("VDI"),
    all<VbdRecord>("VBD"),
  ]);
  return { hosts, srs, pbds, vms, vdis, vbds };
}

export function hostByUuid(snapshot: XapiSnapshot, hostUuid: string): WithRef<HostRecord> {
  const host = snapshot.hosts.find((h) => h.uuid === hostUuid);
  if (host === undefined) {
    throw new Error(
      `XAPI does not know host ${hostUuid} (INSTALLATION_UUID of the dom0 reached over SSH): ` +
        "the XAPI endpoint and the SSH host are not the same pool",
    );
  }
  return host;
}

/**
 * The udev "Removable storage" SR of one host: type udev, sm_config type=block, plugged on that
 * host through a PBD (each host of a pool has its own).
 */
export function removableStorageSr(snapshot: XapiSnapshot, host: Ref): WithRef<SrRecord> | undefined {
  const onHost = new Set(snapshot.pbds.filter((pbd) => pbd.host === host).map((pbd) => pbd.SR));
  return snapshot.srs.find(
    (sr) => sr.type === "udev" && sr.sm_config["type"] === "block" && onHost.has(sr.$ref),
  );
}

export const NO_REMOVABLE_STORAGE_SR =
  'this host has no udev "Removable storage" SR for block devices. Create it on the host with: ' +
  'xe sr-create name-label="Removable storage" type=udev content-type=disk ' +
  "device-config:location=/dev/xapi/block sm-config:type=block host-uuid=<host uuid>";

/** The VM (never a template), or undefined when it does not exist. Several with one name is an error. */
export function findVm(snapshot: XapiSnapshot, identity: VmIdentity): WithRef<VmRecord> | undefined {
  const vms = snapshot.vms.filter(
    (vm) =>
      !vm.is_a_template &&
      ("uuid" in identity ? vm.uuid === identity.uuid : vm.name_label === identity.nameLabel),
  );
  if (vms.length > 1) {
    const uuids = vms.map((vm) => vm.uuid).join(", ");
    throw new Error(
      `${describeVm(identity)} is ambiguous: ${vms.length} VMs have that name (${uuids}); use vm.uuid`,
    );
  }
  return vms[0];
}

/** udev SR VDIs are matched by location, never by a stored UUID: a re-added disk gets a new one. */
export function vdiAt(snapshot: XapiSnapshot, sr: Ref, location: string): WithRef<VdiRecord> | undefined {
  return snapshot.vdis.find((vdi) => vdi.SR === sr && vdi.location === location);
}

/** uuid of a VM or VDI ref; "" for a dangling ref (a VDI forgotten under a VBD). */
export function uuidOf(snapshot: XapiSnapshot, ref: Ref): string {
  return [...snapshot.vms, ...snapshot.vdis].find((record) => record.$ref === ref)?.uuid ?? "";
}
