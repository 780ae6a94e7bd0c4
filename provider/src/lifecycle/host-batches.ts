// Per host, the work that concurrent resources share (group commit, core/group-commit.ts): the
// engine runs creates, reads and deletes in parallel, and N of them on one host cost one dom0
// inventory exec, one round of XAPI record fetches, one udev round and one SR scan, not N.
import type { Dom0Inventory } from "../core/dom0-inventory.js";
import { GroupCommit } from "../core/group-commit.js";
import { readInventory } from "../dom0/inventory.js";
import type { Remote } from "../dom0/remote.js";
import { runUdevRound, type UdevOutcome, type UdevRequest } from "../dom0/udev-round.js";
import type { XapiCaller } from "../xapi/caller.js";
import type { Ref } from "../xapi/records.js";
import { fetchDiskRecords, fetchSnapshot, type DiskRecords, type XapiSnapshot } from "../xapi/snapshot.js";
import { scanSr } from "../xapi/sr.js";

/**
 * How long the first request of a batch waits for others. Concurrent resources reach each step
 * together (they wait on the same connection, look and round), so a timer tick catches them;
 * every millisecond more is paid by every step of every resource.
 */
export const BATCH_WINDOW_MS = 1;

export interface HostBatches {
  inventory(): Promise<Dom0Inventory>;
  snapshot(): Promise<XapiSnapshot>;
  /** VDIs and VBDs alone (after a scan: snapshot.ts fetchDiskRecords). */
  diskRecords(): Promise<DiskRecords>;
  udev(request: UdevRequest): Promise<UdevOutcome>;
  scan(sr: Ref): Promise<void>;
}

// dom0 work is shared per SSH connection, XAPI work per XAPI session: two resources on one host
// may reach XAPI differently (through SSH, or over direct HTTPS).
const dom0ByRemote = new WeakMap<Remote, Pick<HostBatches, "inventory" | "udev">>();
const xapiBySession = new WeakMap<XapiCaller, Pick<HostBatches, "snapshot" | "diskRecords" | "scan">>();

/** The shared batches of one host, as reached by these connections (one of each per process). */
export function hostBatches(remote: Remote, xapi: XapiCaller): HostBatches {
  return { ...dom0BatchesOf(remote), ...xapiBatchesOf(xapi) };
}

/** The dom0 side alone: usable while the XAPI login is still under way. */
export function dom0BatchesOf(remote: Remote): Pick<HostBatches, "inventory" | "udev"> {
  let dom0 = dom0ByRemote.get(remote);
  if (dom0 === undefined) {
    dom0 = dom0Batches(remote);
    dom0ByRemote.set(remote, dom0);
  }
  return dom0;
}

function xapiBatchesOf(xapi: XapiCaller): Pick<HostBatches, "snapshot" | "diskRecords" | "scan"> {
  let xapiSide = xapiBySession.get(xapi);
  if (xapiSide === undefined) {
    xapiSide = xapiBatches(xapi);
    xapiBySession.set(xapi, xapiSide);
  }
  return xapiSide;
}

/** A read that every caller of one batch shares. */
function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  const batch = new GroupCommit<null, T>(async (requests) => {
    const value = await read();
    return requests.map(() => value);
  }, BATCH_WINDOW_MS);
  return () => batch.submit(null);
}

function dom0Batches(remote: Remote): Pick<HostBatches, "inventory" | "udev"> {
  const udev = new GroupCommit<UdevRequest, UdevOutcome>(
    (requests) => runUdevRound(remote, requests),
    BATCH_WINDOW_MS,
  );
  return { inventory: sharedRead(() => readInventory(remote)), udev: (request) => udev.submit(request) };
}

function xapiBatches(xapi: XapiCaller): Pick<HostBatches, "snapshot" | "diskRecords" | "scan"> {
  const scan = new GroupCommit<Ref, true>(async (srs) => {
    await Promise.all([...new Set(srs)].map((sr) => scanSr(xapi, sr)));
    return srs.map(() => true as const);
  }, BATCH_WINDOW_MS);
  return {
    snapshot: sharedRead(() => fetchSnapshot(xapi)),
    diskRecords: sharedRead(() => fetchDiskRecords(xapi)),
    scan: async (sr) => {
      await scan.submit(sr);
    },
  };
}
