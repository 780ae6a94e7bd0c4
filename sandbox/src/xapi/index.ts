// Public surface of the XAPI simulator: everything other modules may use is exported here.
export { startXapiSimulator } from "./simulator";
export type { PoolMemberOptions, SimulatedHost, XapiSimulator, XapiSimulatorOptions } from "./simulator";
export type { DeviceDirectory, DeviceEntry } from "./devices";
export { InMemoryDeviceDirectory, UDEV_BLOCK_DIRECTORY } from "./devices";
export type { SimulatorControl, SimulatorState } from "./control/control";
export type { DriftOperations } from "./control/drift";
export type { UsbChangeOptions, UsbChangeReport, UsbControl } from "./control/usb";
export type { UsbScanReport } from "./classes/usb-scan";
export type { ActiveFaultRule, FaultAction, FaultRule } from "./control/fault-rules";
export type { ServiceTimeProfile } from "./control/profile";
export { profiles, realisticProfile, zeroProfile } from "./control/profile";
export type { CallOutcome, TraceEntry, TraceSnapshot } from "./control/trace";
export type { XapiFault } from "./faults";
export type { GcReport } from "./gc";
export { DEFAULT_GC_INTERVAL_MS } from "./gc";
export type { ModelOptions } from "./seed";
export type { GuestKind } from "./classes/vm-guest-metrics";
export type { BlockDeviceInfo } from "./devices";
export {
  DEFAULT_SM_VERSION,
  SM_VERSION_8_2,
  checkSmVersion,
  checksDbDuringScan,
  productVersionOf,
  resolvesSymlinks,
} from "./sm-version";
export { UNRECOGNISED_BUS_LABEL, udevVdiView } from "./classes/udev-vdi";
export type { UdevVdiView } from "./classes/udev-vdi";
export type { AutoStartResult, BootUnitRun, Dom0BootHooks, RebootOptions, RebootReport } from "./host-reboot";
export { DEFAULT_USB_DEVICE, DEFAULT_USB_POLICY, usbPolicyAllows } from "./classes/usb-policy";
export type { UsbDevice } from "./classes/usb-policy";
