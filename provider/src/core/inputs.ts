// The resource's inputs after check: every default applied, every value validated. Each field's
// type is inferred from the schema (core/schema.ts), the defaults and ranges are the tables of
// core/input-tables.ts, the documentation is the interfaces here. The SSH and XAPI settings are
// the one settings type of the resource, the lifecycle, the adapters and the CLI; the public Args
// types are mapped from them (provider/src/resource.ts).
import type { z } from "zod/v3";
import { definedOnly } from "./defined-only.js";
import { SSH_DEFAULTS, XAPI_DEFAULTS } from "./input-tables.js";
import type { ExactConnectionSchema, ExactHopSchema, exactInputsSchema, exactXapiSchema } from "./schema.js";
import type { DiskIdentity, VmIdentity } from "./schema.js";

export {
  DEFAULT_OPERATION_TIMEOUT_SECONDS,
  DEFAULTS,
  LIMITS,
  SSH_DEFAULTS,
  XAPI_DEFAULTS,
} from "./input-tables.js";
export type { DiskIdentity, VmIdentity } from "./schema.js";

/** The checked type of each field, from the schema; the interfaces below give the fields their documentation. */
type Field<Output, K extends keyof Output> = Exclude<Output[K], undefined>;
type HopOutput = z.output<ExactHopSchema>;
type XapiOutput = z.output<ReturnType<typeof exactXapiSchema>>;
type InputsOutput = z.output<ReturnType<typeof exactInputsSchema>>;

// The field comments are what users read: the resource's Args types are mapped from these
// interfaces (TypeScript's declaration files keep no comment of an inferred type, so the
// documentation is written as an interface; each field's type is the schema's).
/**
 * SSH settings of one hop, defaults applied: the one type the resource, the CLI and the SSH
 * adapter share. The fields and defaults of @pulumi/command 1.2 remote.ConnectionArgs, plus an
 * explicit opt-out of host key checking and a bound on each remote operation.
 */
export interface SshHop {
  /** Host name or address of dom0 (or of the jump host). */
  readonly host: Field<HopOutput, "host">;
  /** SSH port. Default 22. */
  readonly port: Field<HopOutput, "port">;
  /** User. Default "root" (the lifecycle writes udev rules and runs udevadm). */
  readonly user: Field<HopOutput, "user">;
  /** Password, if the host accepts password logins. */
  readonly password?: Field<HopOutput, "password">;
  /** Private key (OpenSSH or PEM text). */
  readonly privateKey?: Field<HopOutput, "privateKey">;
  /** Passphrase of `privateKey`. */
  readonly privateKeyPassword?: Field<HopOutput, "privateKeyPassword">;
  /** SSH agent socket; default: the SSH_AUTH_SOCK environment variable. */
  readonly agentSocketPath?: Field<HopOutput, "agentSocketPath">;
  /** Dial attempts before giving up (1..100). Default 10. */
  readonly dialErrorLimit: Field<HopOutput, "dialErrorLimit">;
  /**
   * Seconds per dial attempt (1..600), covering TCP connect, SSH handshake and authentication,
   * and each channel opened later on the connection (a command, the XAPI stream). Default 15.
   */
  readonly perDialTimeout: Field<HopOutput, "perDialTimeout">;
  /**
   * The host's public key, e.g. the content of /etc/ssh/ssh_host_ed25519_key.pub on dom0 or a
   * line of `ssh-keyscan` (its "SHA256:..." fingerprint also works). Required unless
   * `insecureSkipHostKeyCheck`; when missing, create fails with an error that shows the key the
   * host presented.
   */
  readonly hostKey?: Field<HopOutput, "hostKey">;
  /** Connect without verifying the host key. Default false: only for throw-away hosts. */
  readonly insecureSkipHostKeyCheck: Field<HopOutput, "insecureSkipHostKeyCheck">;
  /**
   * Seconds one remote operation may take (1..3600): each XAPI call, and each dom0 command that
   * has no limit of its own. Default 300.
   */
  readonly operationTimeout?: Field<HopOutput, "operationTimeout">;
}
/** SSH connection to dom0, optionally through one jump host. */
export interface SshConnection extends SshHop {
  /** A jump host to reach dom0 through. */
  readonly proxy?: SshHop;
}
/** Direct HTTPS access to XAPI (instead of XAPI through the SSH connection), defaults applied. */
export interface XapiDirect {
  /** "https://<pool master>[:port]". */
  readonly url: Field<XapiOutput, "url">;
  /** Default "root". */
  readonly username: Field<XapiOutput, "username">;
  readonly password: Field<XapiOutput, "password">;
  /** SHA-256 fingerprint of the certificate to pin (64 hex digits, ":"-separated or not). */
  readonly tlsFingerprint?: Field<XapiOutput, "tlsFingerprint">;
  /** Accept any certificate. Default false. Mutually exclusive with `tlsFingerprint`. */
  readonly allowUnauthorized: Field<XapiOutput, "allowUnauthorized">;
}

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

/**
 * VBD mode: read-write or read-only.
 *
 * @example
 * const mode: VbdMode = "RO";
 */
export type VbdMode = Field<InputsOutput, "mode">;
/**
 * Checked inputs of a PassthroughDisk. Field comments are what users read (the resource's Args
 * are mapped from this type); each default stated in them is the one of DEFAULTS, each range the
 * one of LIMITS (a unit test holds them equal).
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
  readonly userdevice: Field<InputsOutput, "userdevice">;
  /** Whether the guest may boot from the disk. Default false. */
  readonly bootable: Field<InputsOutput, "bootable">;
  /** Plug the disk whenever the VM is Running. Default true. */
  readonly attach: Field<InputsOutput, "attach">;
  /** Take over an existing hand-made rule or VBD for this disk instead of failing. Default false. */
  readonly adopt: Field<InputsOutput, "adopt">;
  /**
   * Set the VM's affinity to the disk's host, so XAPI starts the VM where its disk is. Default
   * false: the VM (which another tool may manage) is never changed silently; `observed` reports it.
   */
  readonly setAffinity: Field<InputsOutput, "setAffinity">;
  /** How long to wait for udev to create /dev/xapi/block/<disk> (1..600). Default 60. */
  readonly symlinkTimeoutSeconds: Field<InputsOutput, "symlinkTimeoutSeconds">;
  /**
   * Who owns the disk's pieces on the host: `<project>/<stack>/<name>`, passed by the resource's
   * constructor (dynamic providers never see the URN). Absent in states of earlier versions and
   * for callers of the provider itself: then the owner is the host and disk identity (core/owner.ts).
   */
  readonly owner?: Field<InputsOutput, "owner">;
}

/** True when the schema's output and the type name the same properties (else a compile error). */
type SameKeys<Output, T> = [Exclude<keyof Output, keyof T>, Exclude<keyof T, keyof Output>] extends [
  never,
  never,
]
  ? true
  : never;

// Compile-time: each interface documents exactly the properties its schema checks.
const sameKeys: [
  SameKeys<InputsOutput, PassthroughDiskInputs>,
  SameKeys<HopOutput, SshHop>,
  SameKeys<z.output<ExactConnectionSchema>, SshConnection>,
  SameKeys<XapiOutput, XapiDirect>,
] = [true, true, true, true];
void sameKeys;
