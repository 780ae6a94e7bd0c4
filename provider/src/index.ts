// The only public surface of pulumi-xen-passthrough.
export { PassthroughDisk } from "./resource.js";
export type { ConnectionArgs, PassthroughDiskArgs, SshHopArgs, XapiArgs } from "./resource.js";
export type { DiskIdentity, VbdMode, VmIdentity } from "./core/inputs.js";
export type { ObservedState, VmPowerState } from "./core/state.js";
export type { RuleStatus } from "./core/rule.js";
