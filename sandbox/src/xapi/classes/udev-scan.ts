import type { Database } from "../database";
import { Faults, ok } from "../faults";
import type { Outcome, XapiFault } from "../faults";
import type { CallContext } from "../dispatch/method";
import { sleep } from "../dispatch/sleep";
import { checksDbDuringScan } from "../sm-version";
import type { XapiStruct, XapiValue } from "../values";
import { poolHost } from "../world";
import { reconcileUdevSr } from "./sr";
import { usbLoadRefusal } from "./udev-usb";
import { udevSrView } from "./udev-vdi";

/** What the storage layer hands back to xapi after sm's scan: the SR's VDI records by location. */
type ScanResult = Map<string, XapiStruct>;

const vdiRefsOf = (db: Database, sr: string) => new Set(db.find("VDI", (vdi) => vdi["SR"] === sr));

const sameRefs = (a: ReadonlySet<string>, b: ReadonlySet<string>) =>
  a.size === b.size && [...a].every((ref) => b.has(ref));

/**
 * One pass of sm's scan (sm `udevSR.py` scan, `SR.py` ScanRecord: its db_introduce/db_forget
 * calls change the database as it goes), then the storage layer reads the SR's VDI records back
 * (xen-api v1.249.42 `storage_access.ml` / v25.33.0 `storage_smapiv1.ml` SR.scan) and returns
 * them to xapi. Choice: the scan's service time (profile methodExtraMs["SR.scan"]) is spent half
 * before sm lists the directory and half on the way back to xapi; other calls run meanwhile.
 */
async function smPass(ctx: CallContext, sr: string): Promise<ScanResult | { ok: false; fault: XapiFault }> {
  const half = (ctx.profile.methodExtraMs["SR.scan"] ?? 0) / 2;
  await sleep(half, ctx.signal);
  const views = (await udevSrView(ctx.world, sr)) ?? [];
  // A USB disk whose port is passed through fails the whole scan, before any change (udev-usb.ts).
  const refused = usbLoadRefusal(ctx.db, views);
  if (refused !== undefined) return refused;
  reconcileUdevSr(ctx.db, sr, views);
  const result: ScanResult = new Map();
  for (const vdi of ctx.db.find("VDI", (record) => record["SR"] === sr))
    result.set(ctx.db.str(vdi, "location"), ctx.db.record(vdi));
  await (half > 0 ? sleep(half, ctx.signal) : new Promise((resolve) => setImmediate(resolve)));
  return result;
}

/** The fields update_vdis fills from the storage layer's vdi_info (the rest take defaults). */
const REBUILT_FIELDS = [
  "uuid",
  "name_label",
  "name_description",
  "SR",
  "type",
  "sharable",
  "read_only",
  "virtual_size",
  "physical_utilisation",
  "location",
  "is_a_snapshot",
] as const;

/**
 * xen-api `xapi_sr.ml` update_vdis: by location, a database VDI the result lacks is destroyed and
 * a result VDI the database lacks is created with the result's uuid (a new ref).
 */
function updateVdis(db: Database, sr: string, result: ScanResult): void {
  for (const vdi of db.find("VDI", (record) => record["SR"] === sr))
    if (!result.has(db.str(vdi, "location")) && db.has(vdi)) db.destroy(vdi);
  const known = new Set(
    db.find("VDI", (record) => record["SR"] === sr).map((vdi) => db.str(vdi, "location")),
  );
  for (const [location, record] of result) {
    if (known.has(location)) continue;
    const fields: XapiStruct = {};
    for (const name of REBUILT_FIELDS) if (record[name] !== undefined) fields[name] = record[name];
    db.create("VDI", fields);
  }
}

/**
 * SR.scan of a udev SR as xapi runs it (xen-api `xapi_sr.ml` scan). VDI.forget takes no SR lock
 * (`message_forwarding.ml` VDI.forget marks only the VDI), so it can land inside a scan.
 * Before v24.40.0 xapi reads its own VDIs after sm returns and reconciles them with sm's result:
 * a VDI forgotten in between comes back with its uuid. From v24.40.0 (CA-399757) xapi compares
 * the SR's VDI refs before and after sm's pass and scans again when they differ, at most 10 more
 * times; the last pass fails INTERNAL_ERROR ["SR.scan retry limit exceeded"] whatever it saw.
 */
export async function scanUdevSr(ctx: CallContext, sr: string): Promise<Outcome<XapiValue>> {
  const host = ctx.world.hosts.find((candidate) => candidate.removableSr === sr) ?? poolHost(ctx.world, "");
  if (!checksDbDuringScan(host.smVersion)) {
    const result = await smPass(ctx, sr);
    if (!(result instanceof Map)) return result;
    updateVdis(ctx.db, sr, result);
    return ok("");
  }
  for (let limit = 10; ; limit -= 1) {
    const before = vdiRefsOf(ctx.db, sr);
    const result = await smPass(ctx, sr);
    if (!(result instanceof Map)) return result;
    const after = vdiRefsOf(ctx.db, sr);
    if (limit > 0 && !sameRefs(before, after)) continue;
    if (limit === 0) return Faults.internalError("SR.scan retry limit exceeded");
    updateVdis(ctx.db, sr, result);
    return ok("");
  }
}
