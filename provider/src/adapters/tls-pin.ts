import { isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { TLSSocket } from "node:tls";
import { TlsFingerprintError } from "./tls-fingerprint-error.js";

/** How to trust an XAPI server's certificate. */
export interface TlsTrust {
  /** SHA-256 of the certificate, "AA:BB:..." or plain hex, any case: pinned, CA not consulted. */
  tlsFingerprint?: string;
  /** PEM CA certificate(s) to verify against instead of the system's. */
  ca?: string;
  /** Accept any certificate: only when explicitly asked for. */
  allowUnauthorized?: boolean;
}

/** "AA:BB:..." in upper case, or undefined when `text` is not a SHA-256 fingerprint. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.replace(/[\s:]/g, "").toUpperCase();
  return /^[0-9A-F]{64}$/.test(hex) ? (hex.match(/../g) ?? []).join(":") : undefined;
}

/** A TLS connection to host:port, trusted as `trust` says; rejects when it cannot be trusted. */
export function connectTrusted(host: string, port: number, trust: TlsTrust): Promise<TLSSocket> {
  const pinned = trust.tlsFingerprint === undefined ? undefined : normalizeFingerprint(trust.tlsFingerprint);
  if (trust.tlsFingerprint !== undefined && pinned === undefined) {
    return Promise.reject(
      new Error(
        `xapi.tlsFingerprint "${trust.tlsFingerprint}" is not a SHA-256 fingerprint (64 hex digits, colons optional)`,
      ),
    );
  }
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
    socket.once("error", (error: Error) =>
      reject(
        new Error(`failed to open a verified TLS connection to ${target}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    socket.once("secureConnect", () => {
      if (pinned !== undefined) {
        const seen = socket.getPeerCertificate().fingerprint256;
        if (seen !== pinned) {
          socket.destroy();
          reject(new TlsFingerprintError(target, seen));
          return;
        }
      }
      resolve(socket);
    });
  });
}
