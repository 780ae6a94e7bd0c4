import type { ClassSchema, Database } from "../database";
import { Faults, ok } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { asStringMap } from "../values";
import { genericMethods } from "./generic";
import type { UdevVdiView } from "./udev-vdi";
import { sleep } from "../dispatch/sleep";
import { scanUdevSr } from "./udev-scan";
import { withUsbPathKey } from "./udev-usb";
import { forgetVdi, hotpluggedAt, isUdevSr } from "./vdi";
import { SR_UPSTREAM_FIELDS } from "./upstream-fields";

export const srSchema: ClassSchema = {
  name: "SR",
  fields: {
    ...SR_UPSTREAM_FIELDS,
    uuid: "",
    name_label: "",
    name_description: "",
    type: "",
    content_type: "",
    shared: false,
    physical_size: 0,
    physical_utilisation: 0,
    virtual_allocation: 0,
    sm_config: {},
    other_config: {},
    tags: [],
    allowed_operations: [],
    current_operations: {},
    is_tools_sr: false,
  },
  backRefs: { PBDs: { from: "PBD", via: "SR" }, VDIs: { from: "VDI", via: "SR" } },
};

/**
 * The udev SR scan (sm `drivers/udevSR.py` `update`/`scan`, `drivers/SR.py` ScanRecord): one VDI
 * per directory entry, matched by location only (a kept location keeps its VDI and UUID; a new
 * one gets a fresh UUID); a VDI whose location vanished is forgotten. Sizes and a new VDI's label
 * are what the host's sm reads (see udev-vdi.ts); a kept VDI keeps its label.
 *
 * A dangling entry still counts: `update` adds every `os.listdir` entry, `udevVDI.load` catches
 * the failing `os.stat` and marks the VDI deleted with size 0, label = its path and an empty
 * sm_config, and ScanRecord does not filter deleted VDIs (sm 2.30.8, 3.2.3 and master alike). So
 * an existing VDI stays with size 0 and a new dangling entry is introduced; only attach fails
 * (udev-attach.ts).
 */
export function reconcileUdevSr(db: Database, sr: string, views: readonly UdevVdiView[]): void {
  const byLocation = new Map(views.map((entry) => [entry.location, entry]));
  const readOnly = (asStringMap(db.record(sr)["sm_config"]) ?? {})["type"] === "cd";
  for (const vdi of db.find("VDI", (record) => record["SR"] === sr)) {
    const entry = byLocation.get(db.str(vdi, "location"));
    if (entry === undefined) {
      forgetVdi(db, vdi);
      continue;
    }
    byLocation.delete(entry.location);
    // sm `libs/sm/VDI.py` _db_update (ScanRecord.synchronise_existing): sizes, read_only,
    // sm_config and cbt_enabled only; the name a user gave the VDI survives the scan.
    db.update(vdi, { virtual_size: entry.sizeBytes, physical_utilisation: entry.sizeBytes });
    // A deleted VDI's load leaves read_only False (VDI.__init__) and sm_config {}: _db_update_sm_config
    // removes every key but host_* and key_hash (hotplugged_at goes).
    if (!entry.available) db.update(vdi, { read_only: false, sm_config: keptSmConfig(db, vdi) });
    else {
      const current = asStringMap(db.raw(vdi, "sm_config")) ?? {};
      // Written only when it changes: an unchanged record makes no event.
      if (current["usb_path"] !== entry.usbPath)
        db.update(vdi, { sm_config: withUsbPathKey(current, entry) });
    }
  }
  for (const entry of byLocation.values()) {
    db.create("VDI", {
      SR: sr,
      location: entry.location,
      name_label: entry.nameLabel,
      type: "user",
      managed: true,
      read_only: entry.available && readOnly,
      virtual_size: entry.sizeBytes,
      physical_utilisation: entry.sizeBytes,
      sm_config: entry.available ? withUsbPathKey({ hotplugged_at: hotpluggedAt() }, entry) : {},
    });
  }
  const total = views.reduce((sum, entry) => sum + entry.sizeBytes, 0);
  db.update(sr, { physical_size: total, physical_utilisation: total, virtual_allocation: total });
}

/** The sm_config keys sm's _db_update_sm_config never removes (sm `libs/sm/VDI.py`). */
function keptSmConfig(db: Database, vdi: string): Record<string, string> {
  const current = asStringMap(db.raw(vdi, "sm_config")) ?? {};
  return Object.fromEntries(
    Object.entries(current).filter(([key]) => key.startsWith("host_") || key === "key_hash"),
  );
}

const srRef = { name: "sr", kind: "ref", cls: "SR" } as const;

export const srMethods: MethodSpec[] = [
  ...genericMethods(srSchema),
  {
    name: "SR.scan",
    params: [srRef],
    hasAsync: true,
    locks: (args) => [`SR:${String(args[0])}`],
    ownServiceTime: true,
    handler: async (ctx, [sr]) => {
      const { db } = ctx;
      const ref = sr as string;
      // xen-api `message_forwarding.ml` SR.scan -> forward_sr_op -> choose_pbd_for_sr: the scan runs
      // on a host whose PBD of the SR is plugged; with none, SR_HAS_NO_PBDS [sr] and nothing changes.
      const plugged = db.find("PBD", (pbd) => pbd["SR"] === ref && pbd["currently_attached"] === true);
      if (plugged.length === 0) return Faults.srHasNoPbds(ref);
      // Only a removable-storage SR lists a device directory (its host's); the DVD SR has no drives here
      // and local storage keeps the VDIs it has.
      if (isUdevSr(db, ref)) return scanUdevSr(ctx, ref);
      await sleep(ctx.profile.methodExtraMs["SR.scan"] ?? 0, ctx.signal);
      return ok("");
    },
  },
];
