import type { ClassSchema, Database } from "../database";
import { Faults, ok } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { asStringMap } from "../values";
import { genericMethods } from "./generic";
import type { UdevVdiView } from "./udev-vdi";
import { udevSrView } from "./udev-vdi";
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
 * are what the host's sm reads (see udev-vdi.ts); a kept VDI keeps its label. Choice: an entry
 * whose link dangles counts as gone.
 */
export function reconcileUdevSr(db: Database, sr: string, views: readonly UdevVdiView[]): void {
  const entries = views.filter((view) => view.available);
  const byLocation = new Map(entries.map((entry) => [entry.location, entry]));
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
  }
  for (const entry of byLocation.values()) {
    db.create("VDI", {
      SR: sr,
      location: entry.location,
      name_label: entry.nameLabel,
      type: "user",
      managed: true,
      read_only: readOnly,
      virtual_size: entry.sizeBytes,
      physical_utilisation: entry.sizeBytes,
      sm_config: { hotplugged_at: hotpluggedAt() },
    });
  }
  const total = entries.reduce((sum, entry) => sum + entry.sizeBytes, 0);
  db.update(sr, { physical_size: total, physical_utilisation: total, virtual_allocation: total });
}

const srRef = { name: "sr", kind: "ref", cls: "SR" } as const;

export const srMethods: MethodSpec[] = [
  ...genericMethods(srSchema),
  {
    name: "SR.scan",
    params: [srRef],
    hasAsync: true,
    locks: (args) => [`SR:${String(args[0])}`],
    handler: async ({ db, world }, [sr]) => {
      const ref = sr as string;
      // xen-api `message_forwarding.ml` SR.scan -> forward_sr_op -> choose_pbd_for_sr: the scan runs
      // on a host whose PBD of the SR is plugged; with none, SR_HAS_NO_PBDS [sr] and nothing changes.
      const plugged = db.find("PBD", (pbd) => pbd["SR"] === ref && pbd["currently_attached"] === true);
      if (plugged.length === 0) return Faults.srHasNoPbds(ref);
      // Only a removable-storage SR lists a device directory (its host's); the DVD SR has no drives here
      // and local storage keeps the VDIs it has.
      if (isUdevSr(db, ref)) reconcileUdevSr(db, ref, (await udevSrView(world, ref)) ?? []);
      return ok("");
    },
  },
];
