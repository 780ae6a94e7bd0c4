// connection.hostKey parsing and the OpenSSH fingerprint format, checked against what
// `ssh-keygen -lf` printed for these (throw-away) keys.
import {
  fingerprintOf,
  HostKeyError,
  parseHostKey,
  parseHostKeyPin,
  publicKeyLine,
} from "#provider/adapters/index.js";
import { hostKeyAlgorithmsFor, presentedKey } from "#provider/adapters/host-key.js";
import { RESOURCE_SETTING_NAMES } from "#provider/core/inputs.js";

const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILwEYbtVdD7aJxcJ0w9Q5mnlULV7wKwLy6MJzb7EOH+i";
const ED25519_FINGERPRINT = "SHA256:SqVgj44cqofX4JmXiqEOAvOLf1Q5a7G+1aSPL3AR9mA";
const ECDSA =
  "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOSh5ofNhuiNOWR7mbVE3WHdKZspjeQ9fjU81xQXV9oEKz4M88djZUzhG4TfhYzBhw3yHpgHRsjPO9lyxGE3Ugs=";
const ECDSA_FINGERPRINT = "SHA256:PxSDr7kQHRAj11hBlZ15D94zIPx4fhUJZJOL1QrpgLc";

describe("parseHostKey", () => {
  it("reads an authorized_keys line, with or without a comment", () => {
    expect(parseHostKey(`${ED25519} root@vm`)?.type).toBe("ssh-ed25519");
    expect(parseHostKey(ECDSA)?.type).toBe("ecdsa-sha2-nistp256");
  });

  it("reads an ssh-keyscan / known_hosts line (host name first) and skips comments", () => {
    const key = parseHostKey(`# 10.0.0.5:22 SSH-2.0-OpenSSH_9.2\n10.0.0.5 ${ECDSA}\n`);
    expect(key === undefined ? undefined : publicKeyLine(key)).toBe(ECDSA);
  });

  it("refuses text that is not a key, and a blob whose inner type contradicts the label", () => {
    expect(parseHostKey("garbage")).toBeUndefined();
    expect(parseHostKey(ED25519.replace("ssh-ed25519", "ssh-rsa"))).toBeUndefined();
    expect(parseHostKey("ssh-ed25519 not*base64")).toBeUndefined();
  });
});

describe("fingerprintOf", () => {
  it("matches ssh-keygen -lf", () => {
    expect(fingerprintOf(parseHostKey(ED25519)!)).toBe(ED25519_FINGERPRINT);
    expect(fingerprintOf(parseHostKey(ECDSA)!)).toBe(ECDSA_FINGERPRINT);
  });

  it("is computed from the blob a server presents, whose type it reads", () => {
    const key = presentedKey(parseHostKey(ED25519)!.blob);
    expect(key.type).toBe("ssh-ed25519");
    expect(fingerprintOf(key)).toBe(ED25519_FINGERPRINT);
  });
});

describe("parseHostKeyPin", () => {
  it("accepts a key line or a SHA256 fingerprint", () => {
    expect(parseHostKeyPin(ED25519)).toHaveProperty("key");
    expect(parseHostKeyPin(` ${ED25519_FINGERPRINT} `)).toEqual({ fingerprint: ED25519_FINGERPRINT });
    expect(parseHostKeyPin("SHA256:short")).toBeUndefined();
  });
});

describe("hostKeyAlgorithmsFor", () => {
  it("offers the pinned key's algorithms first so the server presents that key", () => {
    expect(hostKeyAlgorithmsFor({ key: parseHostKey(ECDSA)! })[0]).toBe("ecdsa-sha2-nistp256");
    const rsa = { type: "ssh-rsa", blob: Buffer.alloc(0) };
    expect(hostKeyAlgorithmsFor({ key: rsa }).slice(0, 3)).toEqual([
      "rsa-sha2-512",
      "rsa-sha2-256",
      "ssh-rsa",
    ]);
    expect(new Set(hostKeyAlgorithmsFor(undefined))).toEqual(new Set(hostKeyAlgorithmsFor({ key: rsa })));
  });
});

describe("HostKeyError", () => {
  it("shows the fingerprint and the line to pin, and how to check it", () => {
    const error = new HostKeyError(
      "HOST_KEY_MISSING",
      "root@10.0.0.5:22",
      parseHostKey(ED25519)!,
      RESOURCE_SETTING_NAMES,
    );
    expect(error.message).toContain(ED25519_FINGERPRINT);
    expect(error.message).toContain(`set connection.hostKey to "${ED25519}"`);
    expect(error.message).toContain("ssh-keyscan");
    expect(error.message).toContain("/etc/ssh/ssh_host_ed25519_key.pub");
    expect(error).toMatchObject({
      name: "HostKeyError",
      code: "HOST_KEY_MISSING",
      fingerprint: ED25519_FINGERPRINT,
    });
  });

  it("names the jump host's setting for the jump host", () => {
    const seen = parseHostKey(ECDSA)!;
    const error = new HostKeyError(
      "HOST_KEY_MISMATCH",
      "root@bastion:22",
      seen,
      RESOURCE_SETTING_NAMES,
      "proxy",
    );
    expect(error.message).toMatch(/does not match connection\.proxy\.hostKey/);
    expect(error.message).toContain("ssh_host_ecdsa_key.pub");
  });
});
