// The provider's I/O adapters: SSH to dom0, XAPI (through SSH or direct HTTPS), the shared
// per-host pool. Everything the lifecycle may use is exported here.
export type { ConnectionInput, ConnectionSpec } from "./connection-spec.js";
export {
  DEFAULT_DIAL_ERROR_LIMIT,
  DEFAULT_PER_DIAL_TIMEOUT_SECONDS,
  DEFAULT_PORT,
  DEFAULT_USER,
  describeTarget,
  withConnectionDefaults,
} from "./connection-spec.js";
export type { HostKeyPin, HostPublicKey } from "./host-key.js";
export { fingerprintOf, parseHostKey, parseHostKeyPin, publicKeyLine } from "./host-key.js";
export { HostKeyError } from "./host-key-error.js";
export { closeAll, hostSession, openHostSessions } from "./host-pool.js";
export { firstLine, RemoteCommandError } from "./remote-command-error.js";
export type { ExecOptions, ExecResult } from "./ssh.js";
export { MAX_CONCURRENT_EXECS, RemoteHost } from "./ssh.js";
export { SshConnectionError } from "./ssh-connect-error.js";
export type { TlsTrust } from "./tls-pin.js";
export { normalizeFingerprint } from "./tls-pin.js";
export { TlsFingerprintError } from "./tls-fingerprint-error.js";
export type { LocalTunnel } from "./tunnel.js";
export { openLocalTunnel } from "./tunnel.js";
export type { HttpsXapiSettings, XapiEndpoint } from "./xapi.js";
export { DEFAULT_XAPI_SOCKET, XAPI_CALL_TIMEOUT_MS, XAPI_ORIGINATOR, XapiSession } from "./xapi.js";
export { XapiError } from "./xapi-error.js";
export type { XapiRetryRule } from "./xapi-retry.js";
export { retryRuleFor, XAPI_RETRY_RULES } from "./xapi-retry.js";
