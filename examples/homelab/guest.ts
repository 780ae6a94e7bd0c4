// Inside the guest: mount each passed-through disk and share the mounts over Samba, with
// @pulumi/command's remote.Command. Everything that goes into a shell command below comes from a
// validated value: device names reported by PassthroughDisk and checked against DEVICE, mount
// paths and user names checked against the patterns below, disk numbers we generate. Secrets
// (the Samba password) go through stdin, never into a command line.
import * as pulumi from "@pulumi/pulumi";
import { remote, type types } from "@pulumi/command";
import type { PassthroughDisk } from "pulumi-xen-passthrough";

/** An absolute path of plain names: letters, digits and "_ . -", no "." or ".." component. */
const MOUNT_ROOT = /^(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$/;
/** A Unix user name. */
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
/** The guest's device name as XAPI reports it: "xvdb" (PV drivers), "sdb" or "hdb". */
const DEVICE = /^(?:xvd|sd|hd)[a-z]{1,2}$/;

export interface GuestSettings {
  readonly host: string;
  readonly connection: types.input.remote.ConnectionArgs;
  /** The commands run as root, through `sudo -n` when this user is not root. */
  readonly user: string;
  readonly mountRoot: string;
  /** Partition holding the file system; 0 when the file system spans the whole disk. */
  readonly partition: number;
  readonly sambaUser: string;
  readonly sambaPassword: pulumi.Output<string>;
}

export interface GuestMount {
  readonly command: remote.Command;
  readonly name: string;
  readonly path: string;
  /** The Samba share, e.g. "\\media.lan\disk1". */
  readonly share: string;
}

/** The guest settings, or undefined when no guest is configured (guestHost unset or empty). */
export function readGuestSettings(config: pulumi.Config): GuestSettings | undefined {
  const host = config.get("guestHost") ?? "";
  if (host === "") return undefined;
  const hostKey = config.get("guestHostKey") ?? "";
  if (hostKey === "") {
    throw new Error(
      "guestHostKey is required when guestHost is set: give the guest's public host key (ssh-keyscan prints it)",
    );
  }
  const user = config.get("guestUser", { pattern: USER }) ?? "root";
  const privateKey = pulumi
    .all([config.getSecret("guestPrivateKey") ?? "", config.requireSecret("sshPrivateKey")])
    .apply(([guestKey, hostKeyFallback]) => (guestKey !== "" ? guestKey : hostKeyFallback));
  const partition = config.getNumber("guestPartition", { min: 0, max: 128 }) ?? 1;
  if (!Number.isInteger(partition)) throw new Error("guestPartition must be a whole number from 0 to 128");
  return {
    host,
    connection: { host, hostKey, user, privateKey },
    user,
    mountRoot: config.get("mountRoot", { pattern: MOUNT_ROOT }) ?? "/srv/media",
    partition,
    sambaUser: config.get("sambaUser", { pattern: USER }) ?? "media",
    sambaPassword: config.requireSecret("sambaPassword"),
  };
}

/** Mounts disk number `index` (0-based) at <mountRoot>/disk<index+1> in the guest. */
export function mountInGuest(disk: PassthroughDisk, index: number, guest: GuestSettings): GuestMount {
  const name = `disk${index + 1}`;
  const path = `${guest.mountRoot}/${name}`;
  const source = disk.device.apply((device) => {
    if (!DEVICE.test(device)) {
      throw new Error(
        `${name}: the VM reports no usable device for the disk (${JSON.stringify(device)}); start the VM so the disk is plugged, then run pulumi up again`,
      );
    }
    return guest.partition === 0 ? `/dev/${device}` : `/dev/${device}${guest.partition}`;
  });
  const command = new remote.Command(
    `mount-${name}`,
    {
      connection: guest.connection,
      create: source.apply((dev) => asRoot(guest.user, mountScript(dev, path))),
      delete: asRoot(guest.user, unmountScript(path)),
      // A new VBD may bring the disk back under another device: unmount, then mount again.
      triggers: [disk.vbdUuid],
    },
    { dependsOn: [disk], deleteBeforeReplace: true },
  );
  return { command, name, path, share: `\\\\${guest.host}\\${name}` };
}

/**
 * Mounts `device` at `path` now and after every reboot, by the file system's UUID (device names
 * change between boots) with `nofail` (a missing disk must not stop the guest's boot). While
 * nothing is mounted there, the mount point is immutable (`chattr +i`): nothing, Samba included,
 * can write into the guest's root disk through it. The fstab line is replaced, never repeated.
 */
export function mountScript(device: string, path: string): string {
  return [
    "set -eu",
    `uuid=$(blkid -s UUID -o value ${device})`,
    `[ -n "$uuid" ] || { echo "${device} holds no file system with a UUID" >&2; exit 1; }`,
    `mkdir -p ${path}`,
    `mountpoint -q ${path} || chattr +i ${path}`,
    `grep -v '^[^#][^ ]* ${path} ' /etc/fstab > /etc/fstab.xen-passthrough || true`,
    `echo "UUID=$uuid ${path} auto nofail,x-systemd.device-timeout=10s 0 2" >> /etc/fstab.xen-passthrough`,
    "mv /etc/fstab.xen-passthrough /etc/fstab",
    `mountpoint -q ${path} || mount ${path}`,
  ].join("\n");
}

/** Undoes mountScript: unmounted, out of fstab, the (empty) mount point writable again. */
export function unmountScript(path: string): string {
  return [
    "set -eu",
    `if mountpoint -q ${path}; then umount ${path}; fi`,
    `grep -v '^[^#][^ ]* ${path} ' /etc/fstab > /etc/fstab.xen-passthrough || true`,
    "mv /etc/fstab.xen-passthrough /etc/fstab",
    `chattr -i ${path}`,
  ].join("\n");
}

const SHARES_FILE = "/etc/samba/xen-passthrough-shares.conf";
const INCLUDE_LINE = `include = ${SHARES_FILE}`;

/** Shares every mount over Samba for one Samba user (password from the secret config). */
export function shareOverSamba(mounts: readonly GuestMount[], guest: GuestSettings): remote.Command {
  const sections = mounts.map(
    // root preexec: a client cannot even connect while the disk is not mounted there.
    (m) =>
      `[${m.name}]\n  path = ${m.path}\n  valid users = ${guest.sambaUser}\n  read only = no\n` +
      `  root preexec = mountpoint -q ${m.path}\n  root preexec close = yes`,
  );
  const create = [
    "set -eu",
    `id -u ${guest.sambaUser} >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin ${guest.sambaUser}`,
    `cat > ${SHARES_FILE} <<'EOF'\n${sections.join("\n")}\nEOF`,
    `grep -qxF '${INCLUDE_LINE}' /etc/samba/smb.conf || echo '${INCLUDE_LINE}' >> /etc/samba/smb.conf`,
    // smbpasswd -s reads the new password twice from stdin.
    `smbpasswd -s -a ${guest.sambaUser} >/dev/null`,
    "smbcontrol smbd reload-config || true",
  ].join("\n");
  const remove = [
    `sed -i '\\|^${INCLUDE_LINE}$|d' /etc/samba/smb.conf`,
    `rm -f ${SHARES_FILE}`,
    "smbcontrol smbd reload-config || true",
  ].join("\n");
  const stdin = guest.sambaPassword.apply((password) => {
    if (password === "" || /[\r\n]/.test(password)) {
      throw new Error("sambaPassword must be set (pulumi config set --secret sambaPassword) and be one line");
    }
    return `${password}\n${password}\n`;
  });
  return new remote.Command(
    "samba-shares",
    {
      connection: guest.connection,
      create: asRoot(guest.user, create),
      delete: asRoot(guest.user, remove),
      stdin,
    },
    { dependsOn: mounts.map((m) => m.command) },
  );
}

/** The script as run by root: as is for root, else through passwordless sudo. */
function asRoot(user: string, script: string): string {
  return user === "root" ? script : `sudo -n sh -c ${shellQuote(script)}`;
}

/** Single-quotes a string for sh. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
