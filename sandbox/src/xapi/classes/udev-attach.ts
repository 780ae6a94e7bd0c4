import type { Outcome } from "../faults";
import type { XapiValue } from "../values";
import type { World } from "../world";
import { usbLoadRefusal, vdiUnavailable } from "./udev-usb";
import { udevSrView } from "./udev-vdi";

/**
 * The udev SM backend's attach (xapi-project/sm `udevSR.py`, `udevVDI.load` and `attach`): a VDI
 * whose device entry is gone from the SR's directory is marked deleted, and attaching it raises
 * `VDIUnavailable` (code 46, "The VDI is not available", `XE_SR_ERRORCODES.xml`), which reaches
 * the client as SR_BACKEND_FAILURE_46 ["", message, ""]. Other SRs attach without a check here.
 */
export async function udevAttachFailure(world: World, vdi: string): Promise<Outcome<XapiValue> | undefined> {
  const { db } = world;
  // Each host's udev SR lists that host's devices (a pool has one such SR per host).
  const views = await udevSrView(world, db.str(vdi, "SR"));
  if (views === undefined) return undefined;
  const location = db.str(vdi, "location");
  // `os.stat` of the entry fails for a missing entry and for a dangling link alike.
  const view = views.find((each) => each.location === location && each.available);
  if (view === undefined) return vdiUnavailable();
  // The same load refuses a USB disk whose port is passed through (udev-usb.ts).
  return usbLoadRefusal(db, [view]);
}
