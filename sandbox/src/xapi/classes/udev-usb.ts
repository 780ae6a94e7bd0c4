// Where a udev disk meets USB passthrough: sm's udevVDI.load (xapi-project/sm drivers/udevSR.py,
// the same in 2.30.8 and 3.2.3) records a USB disk's port in the VDI's sm_config usb_path and
// refuses to load it while the PUSB at that port has passthrough enabled.
import type { Database } from "../database";
import { fail } from "../faults";
import type { XapiFault } from "../faults";
import type { UdevVdiView } from "./udev-vdi";

/**
 * sm's VDIUnavailable (code 46, "The VDI is not available", XE_SR_ERRORCODES.xml), as xapi hands
 * it to the client: SR_BACKEND_FAILURE_46 ["", message, ""].
 */
export const vdiUnavailable = (): { ok: false; fault: XapiFault } =>
  fail("SR_BACKEND_FAILURE_46", "", "The VDI is not available", "");

/**
 * udevVDI.load walks PUSB.get_all_records (the whole pool's PUSBs) and stops at the first one whose
 * path is `usbPath`: the load fails when that one has passthrough enabled. Which PUSB comes first
 * when two hosts have one at the same port is the order of xapi's answer; here, database order.
 */
export function passedThroughAt(db: Database, usbPath: string): boolean {
  const [first] = db.find("PUSB", (record) => record["path"] === usbPath);
  return first !== undefined && db.bool(first, "passthrough_enabled");
}

/**
 * The refusal of a load of `views` (a scan loads every entry, an attach or introduce one): the
 * exception is raised inside udevSR.update before any database change, so the whole SR.scan fails
 * and nothing is introduced or forgotten.
 */
export function usbLoadRefusal(
  db: Database,
  views: readonly UdevVdiView[],
): { ok: false; fault: XapiFault } | undefined {
  const refused = views.some((view) => view.usbPath !== undefined && passedThroughAt(db, view.usbPath));
  return refused ? vdiUnavailable() : undefined;
}

/**
 * sm_config with the load's usb_path: set when the device sits on a USB port, removed when it no
 * longer does (sm `VDI.py` _db_update_sm_config writes the load's keys and drops the others).
 */
export function withUsbPathKey(
  smConfig: Record<string, string>,
  entry: Pick<UdevVdiView, "usbPath">,
): Record<string, string> {
  const { usb_path: _dropped, ...rest } = smConfig;
  return entry.usbPath === undefined ? rest : { ...rest, usb_path: entry.usbPath };
}
