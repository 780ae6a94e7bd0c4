// The real @pulumi/pulumi dynamic-provider host driven over gRPC as the engine does: it lives in
// xen-sandbox (the demo uses it too); re-exported here for the tests.
export { HostCallError, dynamicHostEntry, startDynamicHost } from "xen-sandbox";
export type { CheckReply, DiffReply, DynamicHost } from "xen-sandbox";
