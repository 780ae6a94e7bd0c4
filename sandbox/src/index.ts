/**
 * xen-sandbox: a simulated XenServer host for tests, demos and CI.
 *
 * - `startXapiSimulator(options)`: XAPI over HTTPS (JSON-RPC and XML-RPC), no root needed.
 * - `startPool({ hosts: 3 })`: a pool: one simulator database behind one dom0 sandbox per host.
 * - `startSandbox(options)`: the simulator plus a dom0 sandbox (root, Linux): a private mount
 *   namespace with a real systemd-udevd, a real OpenSSH sshd on 127.0.0.1, loop disks dressed
 *   as SATA disks, and `xe` / `local-device-change` stand-ins in /opt/xensource.
 *
 * @example
 * import { startSandbox } from "xen-sandbox";
 * const sandbox = await startSandbox({ disks: 2 });
 * try {
 *   const { ssh, xapi, disks } = sandbox.describe();
 *   // ... connect with ssh.privateKeyPath, pin ssh.hostKey, pass disks[0].serial through ...
 * } finally {
 *   await sandbox.stop();
 * }
 */
export { startSandbox } from "./dom0/sandbox";
export type { Sandbox, SandboxOptions } from "./dom0/sandbox";
export { startPool } from "./dom0/pool";
export type { PoolDescription, PoolHostSandbox, PoolOptions, SandboxPool } from "./dom0/pool";
export type { ExecResult } from "./dom0/run";
export type { SandboxDescription, SandboxDisk } from "./dom0/description";
export type { DiskBus } from "./dom0/identities";
export { SandboxError } from "./dom0/errors";
export type { SandboxErrorCode } from "./dom0/errors";
export { startLatencyProxy, type LatencyProxy, type LatencyProxyOptions } from "./latency-proxy";
export { startCutProxy, type CutProxy } from "./cut-proxy";
export { INJECTED_EXIT_CODE, type ExecFaults } from "./dom0/exec-faults";
export {
  describePieces,
  listPieces,
  parsePieces,
  VBD_TAG_KEY,
  type PassthroughPieces,
} from "./dom0/passthrough-pieces";
export * from "./xapi";
export * from "./engine";
export { assertPrerequisites, TOOLS as SANDBOX_TOOLS } from "./dom0/prerequisites";
