/** The XAPI server's TLS certificate is not the pinned one: shows the fingerprint seen. */
export class TlsFingerprintError extends Error {
  override readonly name = "TlsFingerprintError";
  readonly code = "TLS_FINGERPRINT_MISMATCH";

  constructor(
    readonly target: string,
    readonly seen: string,
    /** What the caller calls the pinned fingerprint: "xapi.tlsFingerprint", "--tls-fingerprint". */
    readonly setting: string,
  ) {
    super(
      `the TLS certificate of ${target} does not match ${setting}: the server presented SHA-256 ${seen}. ` +
        `Check it on the host (\`openssl x509 -noout -fingerprint -sha256 -in /etc/xensource/xapi-ssl.pem\`) ` +
        `and set ${setting} to it if the certificate was legitimately replaced.`,
    );
  }
}
