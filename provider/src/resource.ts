// The public resource: PassthroughDisk, its arguments and its outputs.
import * as pulumi from "@pulumi/pulumi";
import { resourceProps, type OutputsOf } from "./resource-props.js";
import type {
  DEFAULTS,
  DiskIdentity,
  Given,
  PassthroughDiskInputs,
  SshHopGiven,
  VbdMode,
  VmIdentity,
  XapiDirectGiven,
} from "./core/inputs.js";
import { OUTPUT_KEYS, type PassthroughDiskOutputs } from "./core/state.js";
import { passthroughDiskProvider } from "./serialized-provider.js";

/** `pulumi.Input<>` of every field: the Args types are mapped from the one settings type, so they cannot drift. */
type ArgsOf<T> = { -readonly [K in keyof T]: pulumi.Input<T[K]> };

/**
 * SSH settings of one hop to dom0: the fields and defaults of `@pulumi/command` 1.2
 * `remote.ConnectionArgs`, so the same object works for both. Each field's documentation comes
 * from the one settings type, `SshHop` in core/inputs.ts.
 *
 * @example
 * const connection: SshHopArgs = { host: "xen1.lan", privateKey: key, hostKey: "ssh-ed25519 AAAA..." };
 */
export type SshHopArgs = ArgsOf<SshHopGiven>;

/**
 * SSH connection to dom0 (secret as a whole), optionally through a jump host.
 *
 * @example
 * const connection: ConnectionArgs = {
 *   host: "10.0.0.5",
 *   privateKey: config.requireSecret("sshKey"),
 *   hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA...",
 *   proxy: { host: "bastion.lan", privateKey: config.requireSecret("sshKey"), hostKey: "ssh-ed25519 AAAA..." },
 * };
 */
export type ConnectionArgs = SshHopArgs & {
  /** A jump host to reach dom0 through. */
  proxy?: pulumi.Input<SshHopArgs>;
};

/**
 * Direct HTTPS access to XAPI, instead of the default (XAPI through the SSH connection, which
 * needs no XAPI password and no TLS trust decision). Needed on a pool member: give the master.
 * Each field's documentation comes from `XapiDirect` in core/inputs.ts.
 *
 * @example
 * const xapi: XapiArgs = {
 *   url: "https://xen-master.lan",
 *   password: config.requireSecret("xapiPassword"),
 *   tlsFingerprint: "AB:CD:...:EF",
 * };
 */
export type XapiArgs = ArgsOf<XapiDirectGiven>;

/**
 * Arguments of a {@link PassthroughDisk}.
 *
 * @example
 * const args: PassthroughDiskArgs = {
 *   connection: { host: "xen1.lan", privateKey: key, hostKey: "ssh-ed25519 AAAA..." },
 *   disk: { serial: "S3Z1NB0K123456X" },
 *   vm: { nameLabel: "nas" },
 * };
 */
export interface PassthroughDiskArgs extends OwnArgs {
  /** SSH to dom0. Secret. */
  connection: pulumi.Input<ConnectionArgs>;
  /** Omit (default) to reach XAPI through the SSH connection. Secret. */
  xapi?: pulumi.Input<XapiArgs>;
}

/**
 * The resource's own inputs as given (each field with a default may be left out), mapped from
 * `PassthroughDiskInputs` in core/inputs.ts: each field's documentation comes from there.
 * `owner` is set by the constructor, never by users.
 */
type OwnArgs = ArgsOf<Given<Omit<PassthroughDiskInputs, "connection" | "xapi" | "owner">, typeof DEFAULTS>>;

/** What every resource type of this package has: the host it reaches and the VM it serves. */
export abstract class HostDeviceResource extends pulumi.dynamic.Resource {
  /** The SSH connection, as checked (defaults applied). Secret. */
  declare public readonly connection: pulumi.Output<ConnectionArgs>;
  /** Direct XAPI settings, when given. Secret. */
  declare public readonly xapi: pulumi.Output<XapiArgs | undefined>;
  declare public readonly vm: pulumi.Output<VmIdentity>;
}

// The outputs are mapped from the one description of them (core/state.ts): this interface merges
// into the class below, so each output's type and documentation come from there.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- declarations only: the members come from OutputsOf
export interface PassthroughDisk extends OutputsOf<PassthroughDiskOutputs> {}

/**
 * Passes a physical disk of a XenServer / XCP-ng host through to a VM: a udev rule on dom0 gives
 * the disk a /dev/xapi/block symlink, XAPI shows it as a VDI of the udev SR, and a VBD attaches
 * it to the VM. `pulumi refresh` detects drift (VBD unplugged or destroyed, rule edited or
 * deleted, disk renamed after a reboot) and the next `pulumi up` repairs it.
 *
 * @example
 * import * as pulumi from "@pulumi/pulumi";
 * import { PassthroughDisk } from "pulumi-xen-passthrough";
 *
 * const config = new pulumi.Config();
 * const disk = new PassthroughDisk("nas-data", {
 *   connection: { host: "xen1.lan", privateKey: config.requireSecret("sshKey"), hostKey: config.require("hostKey") },
 *   disk: { serial: "S3Z1NB0K123456X" },
 *   vm: { nameLabel: "nas" },
 * });
 * export const device = disk.device;
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class PassthroughDisk extends HostDeviceResource {
  declare public readonly disk: pulumi.Output<DiskIdentity>;
  declare public readonly mode: pulumi.Output<VbdMode>;
  declare public readonly userdevice: pulumi.Output<string>;
  declare public readonly bootable: pulumi.Output<boolean>;
  declare public readonly attach: pulumi.Output<boolean>;
  declare public readonly adopt: pulumi.Output<boolean>;
  declare public readonly setAffinity: pulumi.Output<boolean>;
  declare public readonly symlinkTimeoutSeconds: pulumi.Output<number>;

  /**
   * @param name The unique name of the resource.
   * @param args The disk, the VM and how to reach the host.
   * @param opts Resource options; `connection` and `xapi` are always added to `additionalSecretOutputs`.
   * @example
   * new PassthroughDisk("backup", { connection, disk: { wwn: "0x5000c500a1b2c3d4" }, vm: { uuid: vmId }, mode: "RO" });
   */
  constructor(name: string, args: PassthroughDiskArgs, opts?: pulumi.CustomResourceOptions) {
    const { props, opts: secretOutputs } = resourceProps(name, args, OUTPUT_KEYS, opts);
    super(passthroughDiskProvider, name, props, secretOutputs, "xen-passthrough", "PassthroughDisk");
  }
}
