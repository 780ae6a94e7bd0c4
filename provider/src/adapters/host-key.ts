import { createHash } from "node:crypto";

/** A server public key: its SSH type ("ssh-ed25519") and the wire blob it is encoded from. */
export interface HostPublicKey {
  readonly type: string;
  readonly blob: Buffer;
}

/** Host key types and the signature algorithms a client offers to get that key presented. */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, readonly string[]>> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};

/** What `connection.hostKey` pins: a whole public key, or only its OpenSSH SHA-256 fingerprint. */
export type HostKeyPin = { readonly key: HostPublicKey } | { readonly fingerprint: string };

/** Every host key algorithm we accept, the pinned key's type first so the server presents it. */
export function hostKeyAlgorithmsFor(pin: HostKeyPin | undefined): string[] {
  const all = Object.values(SIGNATURE_ALGORITHMS).flat();
  const first = pin === undefined || !("key" in pin) ? [] : (SIGNATURE_ALGORITHMS[pin.key.type] ?? []);
  return [...first, ...all.filter((algorithm) => !first.includes(algorithm))];
}

/**
 * Parses `connection.hostKey`: a "SHA256:..." fingerprint as `ssh-keygen -lf` prints it, or a
 * public key line (see {@link parseHostKey}). Undefined when it is neither.
 */
export function parseHostKeyPin(text: string): HostKeyPin | undefined {
  const fingerprint = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(text.trim());
  if (fingerprint !== null) return { fingerprint: `SHA256:${fingerprint[1] ?? ""}` };
  const key = parseHostKey(text);
  return key === undefined ? undefined : { key };
}

/** Whether the key a server presented is the pinned one. */
export function matchesPin(pin: HostKeyPin, seen: HostPublicKey): boolean {
  return "key" in pin ? pin.key.blob.equals(seen.blob) : pin.fingerprint === fingerprintOf(seen);
}

/**
 * Parses a public key line as @pulumi/command does (an authorized_keys line: "ssh-ed25519
 * AAAA... comment"), also tolerating leading fields such as the host name of an `ssh-keyscan`
 * or known_hosts line. Returns undefined when no line holds a public key.
 */
export function parseHostKey(text: string): HostPublicKey | undefined {
  for (const line of text.split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0].startsWith("#")) continue;
    for (let index = 0; index + 1 < fields.length; index++) {
      const key = decodeKey(fields[index] ?? "", fields[index + 1] ?? "");
      if (key !== undefined) return key;
    }
  }
  return undefined;
}

function decodeKey(type: string, base64: string): HostPublicKey | undefined {
  if (SIGNATURE_ALGORITHMS[type] === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, "base64");
  return blobType(blob) === type ? { type, blob } : undefined;
}

/** The key type a wire blob starts with (an SSH string: uint32 length, then the name). */
export function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  return length > 0 && 4 + length <= blob.length
    ? blob.subarray(4, 4 + length).toString("latin1")
    : undefined;
}

/** A key presented by a server, from its wire blob. */
export function presentedKey(blob: Buffer): HostPublicKey {
  return { type: blobType(blob) ?? "unknown", blob };
}

/** OpenSSH's fingerprint format: "SHA256:" and unpadded base64 of the blob's SHA-256. */
export function fingerprintOf(key: HostPublicKey): string {
  return `SHA256:${createHash("sha256").update(key.blob).digest("base64").replace(/=+$/, "")}`;
}

/** The authorized_keys line for a key: what to put in `connection.hostKey`. */
export function publicKeyLine(key: HostPublicKey): string {
  return `${key.type} ${key.blob.toString("base64")}`;
}
