// PassthroughUsb's refusals: raised before anything changes on the host. Each has a stable code
// and params; the message names the device or VM and says what to do.
import { PassthroughError } from "./error-base.js";

export type UsbRefusalCode =
  | "USB_DEVICE_NOT_FOUND"
  | "USB_DEVICE_ON_OTHER_HOST"
  | "USB_DEVICE_AMBIGUOUS"
  | "USB_DEVICE_IN_USE_AS_DISK"
  | "USB_DEVICE_HELD_BY_OTHER_VM"
  | "USB_DEVICE_HAS_UNMANAGED_VUSB"
  | "USB_DEVICE_OWNED_ELSEWHERE"
  | "USB_VM_NOT_FOUND"
  | "USB_VM_AMBIGUOUS"
  | "USB_VM_IS_CONTROL_DOMAIN"
  | "USB_VM_TOO_MANY_VUSBS"
  | "USB_VM_HA_RESTART"
  | "USB_STILL_ATTACHED"
  | "USB_HOST_UNKNOWN_TO_XAPI";

/** A PassthroughUsb create, update or delete refused before any change. */
export class UsbRefusedError extends PassthroughError<UsbRefusalCode> {
  override readonly name = "UsbRefusedError";
}
