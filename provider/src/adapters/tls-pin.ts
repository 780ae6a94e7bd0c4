import { isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { TLSSocket } from "node:tls";
import type { SettingNames } from "../core/inputs.js";
import { RESOURCE_SETTING_NAMES } from "../core/inputs.js";
import { normalizeFingerprint } from "../core/patterns.js";
import { toError } from "../core/error-base.js";
import { SettingError, TlsFingerprintError } from "./errors.js";

/** How to trust an XAPI server's certificate. */
export interface TlsTrust {
  /** SHA-256 of the certificate, "AA:BB:..." or plain hex, any case: pinned, CA not consulted. */
  tlsFingerprint?: string;
  /** PEM CA certificate(s) to verify against instead of the system's. */
  ca?: string;
  /** Accept any certificate: only when explicitly asked for. */
  allowUnauthorized?: boolean;
}

/** The pinned fingerprint, normalized; a SettingError when it is not a SHA-256 fingerprint. */
export function pinnedFingerprint(
  trust: TlsTrust,
  names: SettingNames = RESOURCE_SETTING_NAMES,
): string | undefined {
  if (trust.tlsFingerprint === undefined) return undefined;
  const pinned = normalizeFingerprint(trust.tlsFingerprint);
  if (pinned !== undefined) return pinned;
  throw new SettingError(
    names.tlsFingerprint,
    `${names.tlsFingerprint} "${trust.tlsFingerprint}" is not a SHA-256 fingerprint (64 hex digits, colons optional)`,
  );
}

/**
 * A TLS connection to host:port, trusted as `trust` says; rejects when it cannot be trusted, or
 * when the handshake has not completed within `timeoutMs`.
 */
export function connectTrusted(
  host: string,
  port: number,
  trust: TlsTrust,
  options: { readonly timeoutMs: number; readonly names?: SettingNames },
): Promise<TLSSocket> {
  let pinned: string | undefined;
  try {
    pinned = pinnedFingerprint(trust, options.names);
  } catch (error) {
    return Promise.reject(toError(error));
  }
  const names = options.names ?? RESOURCE_SETTING_NAMES;
  const target = `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(trust.ca === undefined ? {} : { ca: trust.ca }),
      // A pinned fingerprint replaces the CA check: XAPI certificates are usually self-signed.
      rejectUnauthorized: pinned === undefined && trust.allowUnauthorized !== true,
      minVersion: "TLSv1.2",
    });
    const timer = setTimeout(
      () => socket.destroy(new Error(`the TLS handshake did not complete within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    socket.once("close", () => clearTimeout(timer));
    socket.once("error", (error: Error) =>
      reject(
        new Error(`failed to open a verified TLS connection to ${target}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      if (pinned !== undefined) {
        const seen = socket.getPeerCertificate().fingerprint256;
        if (seen !== pinned) {
          socket.destroy();
          reject(new TlsFingerprintError(target, seen, names.tlsFingerprint));
          return;
        }
      }
      resolve(socket);
    });
  });
}
