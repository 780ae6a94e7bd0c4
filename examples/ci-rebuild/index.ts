// Rebuild and repair a homelab from a declarative inventory in the stack config: hosts -> VMs ->
// disks. CI runs `pulumi preview` on pull requests and `pulumi up --refresh` on main
// (ci-workflow.yml): a refresh notices what changed behind Pulumi's back (an unplugged VBD, a
// deleted udev rule, a disk renamed after a reboot) and the update repairs it.
import * as pulumi from "@pulumi/pulumi";
import { PassthroughDisk } from "pulumi-xen-passthrough";
import { planDisks } from "./inventory.js";

const config = new pulumi.Config();
// One SSH key for every host, kept encrypted in the stack config.
const privateKey = config.requireSecret("sshPrivateKey");

const disks = planDisks(config.requireObject<unknown>("hosts")).map(({ name, formerNames, host, args }) => ({
  name,
  disk: new PassthroughDisk(
    name,
    {
      ...args,
      connection: {
        host: host.address,
        hostKey: host.hostKey,
        privateKey,
        ...(host.port === undefined ? {} : { port: host.port }),
      },
    },
    {
      // Moving the disk to another VM replaces the resource: the old VBD must go first (a disk
      // is passed through once). The provider asks for this too; said here, it is plain to see.
      deleteBeforeReplace: true,
      // Stacks deployed when names included the VM keep their resources.
      aliases: formerNames.map((formerName) => ({ name: formerName })),
    },
  ),
}));

/** Per disk ("<host>-<disk>"): the guest device, the VBD, whether it is plugged, and drift seen by the last refresh. */
export const passthroughs = Object.fromEntries(
  disks.map(({ name, disk }) => [
    name,
    { device: disk.device, vbdUuid: disk.vbdUuid, attached: disk.currentlyAttached, drift: disk.drift },
  ]),
);
/** The disks whose state differs from the inventory as last seen (`pulumi up --refresh` repairs it). */
export const drifted = pulumi
  .all(
    disks.map(({ name, disk }) =>
      disk.drift.apply((drift) => (drift !== undefined && drift.length > 0 ? [name] : [])),
    ),
  )
  .apply((names) => names.flat());
