import type { SettingNames } from "../core/inputs.js";
import type { HostPublicKey } from "./host-key.js";
import { fingerprintOf, publicKeyLine } from "./host-key.js";

/**
 * The SSH server's host key is not the one configured (`MISMATCH`), or none is configured and
 * checking was not explicitly turned off (`MISSING`). Shows the key seen so the user can check
 * it out of band and pin it.
 */
export class HostKeyError extends Error {
  override readonly name = "HostKeyError";
  readonly fingerprint: string;
  readonly publicKeyLine: string;
  /** What the caller calls the setting: "connection.hostKey", "connection.proxy.hostKey", "--host-key". */
  readonly setting: string;

  constructor(
    readonly code: "HOST_KEY_MISMATCH" | "HOST_KEY_MISSING",
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
      `${problem}. The server presented ${fingerprint} (${line}). ` +
        `Check that fingerprint out of band (on the host console: \`ssh-keygen -lf /etc/ssh/ssh_host_${seen.type.replace(/^ssh-|-.*$/g, "")}_key.pub\`, ` +
        `or \`ssh-keyscan\` from a trusted network), then ${names.assign(setting, line)}.`,
    );
    this.setting = setting;
    this.fingerprint = fingerprint;
    this.publicKeyLine = line;
  }
}
