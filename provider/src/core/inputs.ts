// The resource's inputs after check: every default applied, every value validated. The SSH
// and XAPI settings here are the one settings type of the resource, the lifecycle, the
// adapters and the CLI; the public Args types are mapped from them (provider/src/resource.ts).

/**
 * SSH settings of one hop, defaults applied: the one type the resource, the CLI and the SSH
 * adapter share. The fields and defaults of @pulumi/command 1.2 remote.ConnectionArgs, plus an
 * explicit opt-out of host key checking and a bound on each remote operation. Field comments
 * are what users read: the resource's Args types are mapped from this type.
 */
export interface SshHop {
  /** Host name or address of dom0 (or of the jump host). */
  readonly host: string;
  /** SSH port. Default 22. */
  readonly port: number;
  /** User. Default "root" (the lifecycle writes udev rules and runs udevadm). */
  readonly user: string;
  /** Password, if the host accepts password logins. */
  readonly password?: string;
  /** Private key (OpenSSH or PEM text). */
  readonly privateKey?: string;
  /** Passphrase of `privateKey`. */
  readonly privateKeyPassword?: string;
  /** SSH agent socket; default: the SSH_AUTH_SOCK environment variable. */
  readonly agentSocketPath?: string;
  /** Dial attempts before giving up (1..100). Default 10. */
  readonly dialErrorLimit: number;
  /**
   * Seconds per dial attempt (1..600), covering TCP connect, SSH handshake and authentication,
   * and each channel opened later on the connection (a command, the XAPI stream). Default 15.
   */
  readonly perDialTimeout: number;
  /**
   * The host's public key, e.g. the content of /etc/ssh/ssh_host_ed25519_key.pub on dom0 or a
   * line of `ssh-keyscan` (its "SHA256:..." fingerprint also works). Required unless
   * `insecureSkipHostKeyCheck`; when missing, create fails with an error that shows the key the
   * host presented.
   */
  readonly hostKey?: string;
  /** Connect without verifying the host key. Default false: only for throw-away hosts. */
  readonly insecureSkipHostKeyCheck: boolean;
  /**
   * Seconds one remote operation may take (1..3600): each XAPI call, and each dom0 command that
   * has no limit of its own. Default 300.
   */
  readonly operationTimeout?: number;
}

/** SSH connection to dom0, optionally through one jump host. */
export interface SshConnection extends SshHop {
  /** A jump host to reach dom0 through. */
  readonly proxy?: SshHop;
}

/** Direct HTTPS access to XAPI (instead of XAPI through the SSH connection), defaults applied. */
export interface XapiDirect {
  /** "https://<pool master>[:port]". */
  readonly url: string;
  /** Default "root". */
  readonly username: string;
  readonly password: string;
  /** SHA-256 fingerprint of the certificate to pin (64 hex digits, ":"-separated or not). */
  readonly tlsFingerprint?: string;
  /** Accept any certificate. Default false. Mutually exclusive with `tlsFingerprint`. */
  readonly allowUnauthorized: boolean;
}

/** Defaults of the SSH settings (the same as @pulumi/command where the field comes from it). */
export const SSH_DEFAULTS = {
  port: 22,
  user: "root",
  dialErrorLimit: 10,
  perDialTimeout: 15,
  insecureSkipHostKeyCheck: false,
} as const satisfies Partial<SshHop>;

/** Defaults of the direct-XAPI settings. */
export const XAPI_DEFAULTS = {
  username: "root",
  allowUnauthorized: false,
} as const satisfies Partial<XapiDirect>;

/**
 * Seconds of `operationTimeout` when it is not set. Applied where the wait happens (not written
 * into the checked inputs), so states written before it existed show no change.
 */
export const DEFAULT_OPERATION_TIMEOUT_SECONDS = 300;

/** Settings as a caller gives them: every field that has a default may be left out. */
export type Given<T, Defaults> = Omit<T, keyof Defaults> & Partial<Pick<T, keyof Defaults & keyof T>>;

/** One SSH hop as given. */
export type SshHopGiven = Given<SshHop, typeof SSH_DEFAULTS>;
/** An SSH connection as given (its proxy too). */
export type SshConnectionGiven = SshHopGiven & { readonly proxy?: SshHopGiven };
/** Direct-XAPI settings as given. */
export type XapiDirectGiven = Given<XapiDirect, typeof XAPI_DEFAULTS>;

/** Applies {@link SSH_DEFAULTS} (the proxy's too). */
export function withSshDefaults(given: SshConnectionGiven): SshConnection {
  const { proxy, ...hop } = given;
  const connection: SshConnection = { ...SSH_DEFAULTS, ...definedOnly(hop) };
  return proxy === undefined
    ? connection
    : { ...connection, proxy: { ...SSH_DEFAULTS, ...definedOnly(proxy) } };
}

/** Applies {@link XAPI_DEFAULTS}. */
export function withXapiDefaults(given: XapiDirectGiven): XapiDirect {
  return { ...XAPI_DEFAULTS, ...definedOnly(given) };
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * How a caller names the settings a failure points at: the resource's input paths here, the
 * CLI's flags in cli/. Adapters word their errors with these, so nothing re-words them later.
 */
export interface SettingNames {
  readonly host: string;
  readonly hostKey: string;
  readonly proxyHostKey: string;
  readonly xapiUrl: string;
  readonly xapiUsername: string;
  readonly xapiPassword: string;
  readonly tlsFingerprint: string;
  /** Advice to give a setting a value: `set connection.hostKey to "..."`. */
  readonly assign: (setting: string, value: string) => string;
}

/** The resource's input paths. */
export const RESOURCE_SETTING_NAMES: SettingNames = {
  host: "connection.host",
  hostKey: "connection.hostKey",
  proxyHostKey: "connection.proxy.hostKey",
  xapiUrl: "xapi.url",
  xapiUsername: "xapi.username",
  xapiPassword: "xapi.password",
  tlsFingerprint: "xapi.tlsFingerprint",
  assign: (setting, value) => `set ${setting} to "${value}"`,
};

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

/**
 * Checked inputs of a PassthroughDisk: the one description of the resource's own inputs. Field
 * comments are what users read (the resource's Args are mapped from this type); each default
 * stated in them is the one of {@link DEFAULTS}, each range the one of {@link LIMITS} (a unit test
 * holds them equal).
 */
export interface PassthroughDiskInputs {
  readonly connection: SshConnection;
  /** Undefined: XAPI through the SSH connection. */
  readonly xapi?: XapiDirect;
  /**
   * The disk, by exactly one of `serial` (ID_SERIAL_SHORT or ID_SERIAL of `udevadm info`), `wwn`,
   * `byId` (a name in /dev/disk/by-id) or `kernelName` (last resort: it can change on reboot).
   */
  readonly disk: DiskIdentity;
  /** The VM, by exactly one of `uuid` or `nameLabel`. */
  readonly vm: VmIdentity;
  /** "RW" or "RO". Default "RW". */
  readonly mode: VbdMode;
  /** "autodetect" (the first free device) or "0".."254". Default "autodetect". */
  readonly userdevice: string;
  /** Whether the guest may boot from the disk. Default false. */
  readonly bootable: boolean;
  /** Plug the disk whenever the VM is Running. Default true. */
  readonly attach: boolean;
  /** Take over an existing hand-made rule or VBD for this disk instead of failing. Default false. */
  readonly adopt: boolean;
  /**
   * Set the VM's affinity to the disk's host, so XAPI starts the VM where its disk is. Default
   * false: the VM (which another tool may manage) is never changed silently; `observed` reports it.
   */
  readonly setAffinity: boolean;
  /** How long to wait for udev to create /dev/xapi/block/<disk> (1..600). Default 60. */
  readonly symlinkTimeoutSeconds: number;
  /**
   * Who owns the disk's pieces on the host: `<project>/<stack>/<name>`, passed by the resource's
   * constructor (dynamic providers never see the URN). Absent in states of earlier versions and
   * for callers of the provider itself: then the owner is the host and disk identity (core/owner.ts).
   */
  readonly owner?: string;
}

/** Defaults of the resource's own inputs. */
export const DEFAULTS = {
  mode: "RW",
  userdevice: "autodetect",
  bootable: false,
  attach: true,
  adopt: false,
  setAffinity: false,
  symlinkTimeoutSeconds: 60,
} as const satisfies Partial<PassthroughDiskInputs>;

/** Bounds of the numeric inputs (every remote wait is bounded). */
export const LIMITS = {
  port: { min: 1, max: 65535 },
  dialErrorLimit: { min: 1, max: 100 },
  perDialTimeout: { min: 1, max: 600 },
  operationTimeout: { min: 1, max: 3600 },
  symlinkTimeoutSeconds: { min: 1, max: 600 },
} as const;
