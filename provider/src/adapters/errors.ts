// The errors of the connections to a host (SSH, XAPI, TLS, settings, remote commands). Each is a
// PassthroughError (core/error-base.ts): callers branch on `code` and read `params`.
import { PassthroughError } from "../core/error-base.js";
import type { SettingNames } from "../core/inputs.js";
import type { HostPublicKey } from "./host-key.js";
import { fingerprintOf, publicKeyLine } from "./host-key.js";

/** Where on the way to a remote answer a wait ended: named in every timeout and lost connection. */
export type RemoteStage =
  | "TCP connect"
  | "SSH handshake"
  | "SSH authentication"
  | "channel open"
  | "command"
  | "forwarded stream"
  | "XAPI call";

/** An SSH connection could not be made, or dropped: names the action, the target and the stage. */
export class SshConnectionError extends PassthroughError<
  "SSH_CONNECT_FAILED" | "SSH_CONNECTION_LOST" | "SSH_CHANNEL_FAILED" | "SSH_TIMEOUT",
  { readonly stage?: RemoteStage }
> {
  override readonly name = "SshConnectionError";
  /** The stage the wait ended in, when known. */
  readonly stage: RemoteStage | undefined;

  constructor(
    code: "SSH_CONNECT_FAILED" | "SSH_CONNECTION_LOST" | "SSH_CHANNEL_FAILED" | "SSH_TIMEOUT",
    message: string,
    options?: { cause?: unknown; stage?: RemoteStage },
  ) {
    const stage = options?.stage;
    super(code, stage === undefined ? {} : { stage }, message, options);
    this.stage = stage;
  }
}

/** A connection setting that cannot work (unparseable key...): reported before any dial. */
export class SshConfigError extends PassthroughError<"SSH_CONFIG_INVALID"> {
  override readonly name = "SshConfigError";
  constructor(message: string) {
    super("SSH_CONFIG_INVALID", {}, message);
  }
}

/**
 * The SSH server's host key is not the one configured (`MISMATCH`), or none is configured and
 * checking was not explicitly turned off (`MISSING`). Shows the key seen so the user can check
 * it out of band and pin it.
 */
export class HostKeyError extends PassthroughError<"HOST_KEY_MISMATCH" | "HOST_KEY_MISSING"> {
  override readonly name = "HostKeyError";
  readonly fingerprint: string;
  readonly publicKeyLine: string;
  /** What the caller calls the setting: "connection.hostKey", "connection.proxy.hostKey", "--host-key". */
  readonly setting: string;

  constructor(
    code: "HOST_KEY_MISMATCH" | "HOST_KEY_MISSING",
    readonly target: string,
    seen: HostPublicKey,
    names: SettingNames,
    /** Which hop presented the key: dom0 itself, or the jump host. */
    hop: "target" | "proxy" = "target",
  ) {
    const setting = hop === "proxy" ? names.proxyHostKey : names.hostKey;
    const fingerprint = fingerprintOf(seen);
    const line = publicKeyLine(seen);
    const problem =
      code === "HOST_KEY_MISMATCH"
        ? `the host key of ${target} does not match ${setting} (possible man-in-the-middle, or the host was reinstalled)`
        : `no ${setting} is set for ${target}, so its identity cannot be verified`;
    super(
      code,
      { target, setting, fingerprint },
      `${problem}. The server presented ${fingerprint} (${line}). ` +
        `Check that fingerprint out of band (on the host console: \`ssh-keygen -lf /etc/ssh/ssh_host_${seen.type.replace(/^ssh-|-.*$/g, "")}_key.pub\`, ` +
        `or \`ssh-keyscan\` from a trusted network), then ${names.assign(setting, line)}.`,
    );
    this.setting = setting;
    this.fingerprint = fingerprint;
    this.publicKeyLine = line;
  }
}

/** A setting that cannot work (not a URL, not a fingerprint...), found before anything is sent. */
export class SettingError extends PassthroughError<"INVALID_SETTING"> {
  override readonly name = "SettingError";

  constructor(
    /** What the caller calls the setting: "xapi.url", "--xapi-url". */
    readonly setting: string,
    message: string,
  ) {
    super("INVALID_SETTING", { setting }, message);
  }
}

/** The XAPI server's TLS certificate is not the pinned one: shows the fingerprint seen. */
export class TlsFingerprintError extends PassthroughError<"TLS_FINGERPRINT_MISMATCH"> {
  override readonly name = "TlsFingerprintError";

  constructor(
    readonly target: string,
    readonly seen: string,
    /** What the caller calls the pinned fingerprint: "xapi.tlsFingerprint", "--tls-fingerprint". */
    readonly setting: string,
  ) {
    super(
      "TLS_FINGERPRINT_MISMATCH",
      { target, seen, setting },
      `the TLS certificate of ${target} does not match ${setting}: the server presented SHA-256 ${seen}. ` +
        `Check it on the host (\`openssl x509 -noout -fingerprint -sha256 -in /etc/xensource/xapi-ssl.pem\`) ` +
        `and set ${setting} to it if the certificate was legitimately replaced.`,
    );
  }
}

/**
 * A failure reported by XAPI: callers branch on `code` (e.g. "VM_BAD_POWER_STATE") and read
 * `params` (XAPI's own, in order); the message is "<method> failed: CODE [params]", plus a hint
 * when we have one.
 */
export class XapiError extends PassthroughError<string, string[]> {
  override readonly name = "XapiError";

  constructor(
    readonly method: string,
    code: string,
    params: string[],
    hint?: string,
  ) {
    super(
      code,
      params,
      `${method} failed: ${code} [${params.join(", ")}]${hint === undefined ? "" : `. ${hint}`}`,
    );
  }
}

/** XAPI could not be reached or did not answer in time: names the target, the call and why. */
export class XapiTransportError extends PassthroughError<"XAPI_UNREACHABLE"> {
  override readonly name = "XapiTransportError";
  readonly stage = "XAPI call";

  constructor(
    readonly target: string,
    readonly method: string,
    why: string,
    options: { cause: unknown },
  ) {
    super("XAPI_UNREACHABLE", { target, method }, `${method} on ${target} failed: ${why}`, options);
  }
}

/** A remote script exited non-zero: carries its first line, exit code and combined output. */
export class RemoteCommandError extends PassthroughError<"REMOTE_COMMAND_FAILED"> {
  override readonly name = "RemoteCommandError";

  constructor(
    readonly target: string,
    readonly command: string,
    readonly exitCode: number,
    readonly output: string,
  ) {
    super(
      "REMOTE_COMMAND_FAILED",
      { target, command, exitCode: String(exitCode) },
      `command \`${command}\` failed on ${target} with exit code ${exitCode}: ${output.trim() || "(no output)"}`,
    );
  }
}
