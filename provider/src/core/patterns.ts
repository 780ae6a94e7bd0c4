// Allow-lists for every value that ends up in a udev rule, a file name or a shell command.
// Each pattern comes with the words a check failure uses to say what is allowed. Udev match
// values are globs (`*`, `?`, `[`, `|`), so none of those characters is ever allowed.

/** A pattern and the description of what it allows, for check failures. */
export interface AllowList {
  readonly pattern: RegExp;
  readonly allowed: string;
  /** What to call a failing value that has no dangerous character (default: names "/" or ".."). */
  readonly problem?: string;
}

const UUID_TEXT = "a UUID like 0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";

export const ALLOW = {
  // udev keeps ID_SERIAL/ID_SERIAL_SHORT to letters, digits and "#+-.:=@_" (whitespace becomes
  // "_"); "#" is left out because it starts a comment in rules files.
  serial: {
    pattern: /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.:@+=-]{0,199}$/,
    allowed:
      'a disk serial as udev reports it in ID_SERIAL_SHORT or ID_SERIAL: letters, digits and "_ . : @ + = -", starting with a letter or digit, at most 200 characters, no ".."',
  },
  wwn: {
    pattern:
      /^(?:0x[0-9a-fA-F]{16}(?:[0-9a-fA-F]{16})?|[0-9a-fA-F]{16}(?:[0-9a-fA-F]{16})?|(?:naa|eui|nvme|t10)\.[A-Za-z0-9_.:-]{1,200})$/,
    allowed:
      'a World Wide Name as in udev ID_WWN: 16 or 32 hex digits (optionally prefixed "0x"), or an NVMe/SCSI name starting "eui.", "naa.", "nvme." or "t10." followed by letters, digits and "_ . : -"',
  },
  byId: {
    pattern: /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.:@+=-]{0,199}$/,
    allowed:
      'a file name in /dev/disk/by-id (not a path): letters, digits and "_ . : @ + = -", starting with a letter or digit, no "/" and no ".."',
  },
  kernelName: {
    pattern: /^[a-z][a-z0-9]{0,31}$/,
    allowed:
      'a kernel name of a whole disk as listed in /sys/block, like "sdb", "nvme0n1" or "loop3": lowercase letters and digits only',
  },
  vmUuid: {
    pattern: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    allowed: UUID_TEXT,
  },
  // XAPI allows any name label; ours reach XAPI calls and messages, so keep them printable and
  // free of quotes, shell and glob characters.
  vmNameLabel: {
    pattern: /^[A-Za-z0-9](?:[A-Za-z0-9 _.,:@+=()-]{0,126}[A-Za-z0-9_.)-])?$/,
    allowed:
      'a VM name label: letters, digits, inner spaces and "_ . , : @ + = ( ) -", starting with a letter or digit, at most 128 characters; no quotes, "$", "`", ";", "*", "?" or newlines',
  },
  // The resource's owner id, `<project>/<stack>/<name>` (resource.ts): it reaches rule comments,
  // other_config, the claim on dom0 (escaped) and messages, so printable ASCII only.
  owner: {
    pattern: /^[!-~](?:[ -~]{0,510}[!-~])?$/,
    allowed: "printable ASCII (no control characters or newlines), at most 512 characters",
  },
  host: {
    pattern:
      /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]?)$/,
    problem: "is not a host name or address",
    allowed: "a host name, an IPv4 address or an IPv6 address (letters, digits, dots, hyphens, colons)",
  },
  user: {
    pattern: /^[a-z_][a-z0-9_.-]{0,31}$/,
    allowed:
      'a Unix user name: lowercase letters, digits and "_ . -", starting with a letter or "_", at most 32 characters',
  },
  socketPath: {
    pattern: /^(?!.*\/\.\.?(?:\/|$))\/[A-Za-z0-9_.@+=/-]{1,200}$/,
    problem: 'is not an absolute path without "." or ".." components',
    allowed: 'an absolute path of letters, digits and "_ . @ + = - /", without "." or ".." components',
  },
  // Text only here; hostKeyProblem below requires a public key in it. Never reaches a shell.
  hostKey: {
    pattern: /^[\x20-\x7e\t\r\n]{1,16384}$/,
    allowed:
      'the host\'s public key as an authorized_keys or ssh-keyscan line, e.g. "ssh-ed25519 AAAA..." (from /etc/ssh/ssh_host_ed25519_key.pub on the host): printable ASCII',
  },
  xapiUrl: {
    pattern: /^https:\/\/[A-Za-z0-9.:[\]-]{1,253}(?::[0-9]{1,5})?\/?$/,
    problem: "is not an https URL of a host (and optional port)",
    allowed:
      'an https URL of the XAPI host (the pool master), like "https://xen1.example.net" or "https://192.0.2.10:443"',
  },
  tlsFingerprint: {
    pattern: /^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/,
    allowed:
      'the SHA-256 fingerprint of the XAPI certificate: 64 hex digits, plain or in pairs separated by ":"',
  },
  userdevice: {
    pattern: /^(?:autodetect|0|[1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|25[0-4])$/,
    allowed: '"autodetect" or a device number "0" to "254" (as a string)',
  },
} as const satisfies Record<string, AllowList>;

/**
 * A SHA-256 fingerprint in the form Node prints it (uppercase hex pairs joined by ":"), or
 * undefined when `value` is not one (64 hex digits, ":" or white space between them allowed).
 */
export function normalizeFingerprint(value: string): string | undefined {
  const hex = value.replace(/[\s:]/g, "").toUpperCase();
  return /^[0-9A-F]{64}$/.test(hex) ? (hex.match(/../g) ?? []).join(":") : undefined;
}

const PUBLIC_KEY =
  /(?:^|\s)(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521))\s+[A-Za-z0-9+/]+={0,2}(?:\s|$)/;

/** Why a hostKey holds no usable public key, or undefined when it does. */
export function hostKeyProblem(value: string): string | undefined {
  return PUBLIC_KEY.test(value)
    ? undefined
    : 'holds no public key: give a line like "ssh-ed25519 AAAA..." (types ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa)';
}
