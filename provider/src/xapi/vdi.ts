import type { XapiCaller } from "./caller.js";
import { idempotent } from "./idempotent.js";
import type { Ref } from "./records.js";

/**
 * Drops XAPI's record of a VDI. For a disk of the udev SR this is all an SR scan would do once
 * the disk's symlink is gone (VDI.forget touches no storage), without scanning the whole SR.
 */
export const forgetVdi = (xapi: XapiCaller, vdi: Ref) => idempotent(xapi, "VDI.forget", vdi);
