// The only public surface of pulumi-xen-passthrough.
export { PassthroughDisk } from "./resource.js";
export type { ConnectionArgs, PassthroughDiskArgs, SshHopArgs, XapiArgs } from "./resource.js";
export type { DiskIdentity, VbdMode, VmIdentity } from "./core/inputs.js";
export type { ObservedState, VmPowerState } from "./core/state.js";
export type { RuleStatus } from "./core/rule.js";
export { PassthroughUsb } from "./usb-resource.js";
export type { PassthroughUsbArgs } from "./usb-resource.js";
export type { UsbDeviceIdentity } from "./core/usb-inputs.js";
export type { PassthroughUsbOutputs, UsbConverged } from "./core/usb-state.js";
