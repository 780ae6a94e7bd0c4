// The resource's inputs after check: every default applied, every value validated.
// These are the shapes the lifecycle works with; the public Args type mirrors them with
// pulumi.Input<> wrappers (provider/src/resource.ts).

/** SSH settings of one hop; the fields and defaults of @pulumi/command 1.2 remote.ConnectionArgs. */
export interface SshHop {
  readonly host: string;
  /** Default 22. */
  readonly port: number;
  /** Default "root". */
  readonly user: string;
  readonly password?: string;
  readonly privateKey?: string;
  readonly privateKeyPassword?: string;
  readonly agentSocketPath?: string;
  /** Dial attempts before giving up. Default 10. */
  readonly dialErrorLimit: number;
  /** Seconds per dial attempt. Default 15. */
  readonly perDialTimeout: number;
  /** Expected host key: an authorized_keys line ("ssh-ed25519 AAAA...") or "SHA256:..." fingerprint. */
  readonly hostKey?: string;
  /** Opt-out of host key verification (default false): only for throw-away hosts. */
  readonly insecureSkipHostKeyCheck: boolean;
}

/** SSH connection to dom0, optionally through one jump host. */
export interface SshConnection extends SshHop {
  readonly proxy?: SshHop;
}

/** Direct HTTPS access to XAPI (instead of XAPI through the SSH connection). */
export interface XapiDirect {
  /** "https://<pool master>[:port]". */
  readonly url: string;
  /** Default "root". */
  readonly username: string;
  readonly password: string;
  /** SHA-256 certificate fingerprint, normalized to uppercase hex pairs joined by ":". */
  readonly tlsFingerprint?: string;
  /** Accept any certificate. Default false. */
  readonly allowUnauthorized: boolean;
}

/** One key of T set, the others absent (so a second identity does not compile). */
type ExactlyOne<T> = {
  [K in keyof T]: { readonly [P in K]: T[K] } & { readonly [P in Exclude<keyof T, K>]?: never };
}[keyof T];

/**
 * The disk, named by exactly one stable identity (or, last resort, its kernel name).
 *
 * @example
 * const disk: DiskIdentity = { serial: "S3Z1NB0K123456X" }; // or { wwn }, { byId }, { kernelName }
 */
export type DiskIdentity = ExactlyOne<{ serial: string; wwn: string; byId: string; kernelName: string }>;

/**
 * The VM, named by exactly one of its UUID or its (unique) name label.
 *
 * @example
 * const vm: VmIdentity = { nameLabel: "nas" }; // or { uuid: "0a1b2c3d-..." }
 */
export type VmIdentity = ExactlyOne<{ uuid: string; nameLabel: string }>;

/**
 * VBD mode: read-write or read-only.
 *
 * @example
 * const mode: VbdMode = "RO";
 */
export type VbdMode = "RW" | "RO";

/** Checked inputs of a PassthroughDisk. */
export interface PassthroughDiskInputs {
  readonly connection: SshConnection;
  readonly xapi?: XapiDirect;
  readonly disk: DiskIdentity;
  readonly vm: VmIdentity;
  readonly mode: VbdMode;
  /** "autodetect" or "0".."254". */
  readonly userdevice: string;
  readonly bootable: boolean;
  readonly attach: boolean;
  readonly adopt: boolean;
  readonly symlinkTimeoutSeconds: number;
}

/** Defaults, as named constants (the same as @pulumi/command where the field comes from it). */
export const DEFAULTS = {
  port: 22,
  user: "root",
  dialErrorLimit: 10,
  perDialTimeout: 15,
  insecureSkipHostKeyCheck: false,
  xapiUsername: "root",
  allowUnauthorized: false,
  mode: "RW",
  userdevice: "autodetect",
  bootable: false,
  attach: true,
  adopt: false,
  symlinkTimeoutSeconds: 60,
} as const;

/** Bounds of the numeric inputs (every remote wait is bounded). */
export const LIMITS = {
  port: { min: 1, max: 65535 },
  dialErrorLimit: { min: 1, max: 100 },
  perDialTimeout: { min: 1, max: 600 },
  symlinkTimeoutSeconds: { min: 1, max: 600 },
} as const;
