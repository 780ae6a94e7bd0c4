import { X509Certificate } from "node:crypto";
import { generate } from "selfsigned";

export interface ServerCertificate {
  certificatePem: string;
  privateKeyPem: string;
  /** SHA-256 fingerprint in Node's X509Certificate.fingerprint256 form ("AA:BB:…"). */
  fingerprint256: string;
}

/**
 * A fresh self-signed certificate valid for localhost and `ips` (default 127.0.0.1): what clients
 * here connect to (a pool's hosts each have a loopback address and share the certificate).
 */
export async function generateServerCertificate(
  commonName: string,
  ips: readonly string[] = ["127.0.0.1"],
): Promise<ServerCertificate> {
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [{ type: 2, value: "localhost" }, ...ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return {
    certificatePem: pems.cert,
    privateKeyPem: pems.private,
    fingerprint256: new X509Certificate(pems.cert).fingerprint256,
  };
}
