// The provider's I/O adapters: SSH to dom0, XAPI (through SSH or direct HTTPS), the shared
// per-host pool. Everything the lifecycle may use is exported here.
export { describeTarget } from "./ssh-target.js";
export type { HostKeyPin, HostPublicKey } from "./host-key.js";
export { fingerprintOf, parseHostKey, parseHostKeyPin, publicKeyLine } from "./host-key.js";
export { closeAll, hostSession, openHostSessions } from "./host-pool.js";
export {
  HostKeyError,
  RemoteCommandError,
  SettingError,
  SshConnectionError,
  TlsFingerprintError,
  XapiError,
  XapiTransportError,
} from "./errors.js";
export type { RemoteStage } from "./errors.js";
export { firstLine } from "./remote-script.js";
export type { ExecOptions, ExecResult } from "./ssh.js";
export { MAX_CONCURRENT_EXECS, RemoteHost } from "./ssh.js";
export type { TlsTrust } from "./tls-pin.js";
export type { LocalTunnel } from "./tunnel.js";
export { openLocalTunnel } from "./tunnel.js";
export type { XapiEndpoint, XapiSessionOptions } from "./xapi.js";
export { DEFAULT_XAPI_SOCKET, XAPI_ORIGINATOR, XapiSession } from "./xapi.js";
export type { XapiRetryRule } from "./xapi-retry.js";
export { retryRuleFor, XAPI_RETRY_RULES } from "./xapi-retry.js";
