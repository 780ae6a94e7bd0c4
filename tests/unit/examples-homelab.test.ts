// The homelab example program (examples/homelab, compiled), run under Pulumi mocks with stack
// configs: the disks it declares, the guest commands and what they depend on, that secrets stay
// secret, and that its Pulumi.yaml (and the repository's) documents every setting it reads.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { checkInputs } from "#provider/core/check.js";
import { checkUsbInputs } from "#provider/core/usb-schema.js";

import {
  configDeclarationProblems,
  isSecretValue,
  readProjectFile,
  readStackConfig,
  runProgramUnderMocks,
  withoutSecrets,
  withSecretsRevealed,
  type MockRun,
  type MockRunOptions,
  type RegisteredResource,
} from "xen-sandbox";

const ROOT = join(__dirname, "..", "..", "..");
const EXAMPLE = join(ROOT, "examples", "homelab");
const PROJECT = "xen-passthrough-homelab";
const DISK_TYPE = "pulumi-nodejs:dynamic/xen-passthrough:PassthroughDisk";
const COMMAND_TYPE = "command:remote:Command";
const USB_TYPE = "pulumi-nodejs:dynamic/xen-passthrough:PassthroughUsb";

const SSH_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nhost-key-material-c2VjcmV0\n-----END OPENSSH PRIVATE KEY-----";
const GUEST_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nguest-key-material-Z3Vlc3Q\n-----END OPENSSH PRIVATE KEY-----";
const SAMBA_PASSWORD = "samba-pw-Tr0ub4dor";
const SECRETS = [SSH_KEY, GUEST_KEY, SAMBA_PASSWORD];

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfDom0";
const GUEST_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheGuest";

const BASE_CONFIG = {
  host: "192.0.2.10",
  hostKey: HOST_KEY,
  sshPrivateKey: SSH_KEY,
  vmName: "media",
  diskSerials: ["WD-WCC4N0000001", "S3Z1NB0K123456X"],
};
const GUEST_CONFIG = {
  ...BASE_CONFIG,
  guestHost: "media.example.net",
  guestHostKey: GUEST_HOST_KEY,
  sambaPassword: SAMBA_PASSWORD,
};

function run(config: Record<string, unknown>, extra: Partial<MockRunOptions> = {}): Promise<MockRun> {
  return runProgramUnderMocks({
    program: join(EXAMPLE, "dist", "index.js"),
    project: PROJECT,
    config,
    secretKeys: ["sshPrivateKey", "guestPrivateKey", "sambaPassword"].filter((key) => key in config),
    ...extra,
  });
}

/** The mount script of disk1 (/dev/xvdb1 at /srv/media/disk1) with another device and path. */
function mountScript(device: string, path: string): string {
  return (named(withGuest, "mount-disk1").inputs["create"] as string)
    .replaceAll("/dev/xvdb1", device)
    .replaceAll("/srv/media/disk1", path);
}

/** The unmount script of disk1 with another path. */
function unmountScript(path: string): string {
  return (named(withGuest, "mount-disk1").inputs["delete"] as string).replaceAll("/srv/media/disk1", path);
}

function ofType(result: MockRun, type: string): RegisteredResource[] {
  return result.resources.filter((r) => r.type === type);
}

function named(result: MockRun, name: string): RegisteredResource {
  const resource = result.resources.find((r) => r.name === name);
  if (resource === undefined)
    throw new Error(`no resource ${name} among ${result.resources.map((r) => r.name).join(", ")}`);
  return resource;
}

/** The value inside a secret wrapper; fails when the value is not secret. */
function secretValue(value: unknown): unknown {
  if (!isSecretValue(value)) throw new Error(`expected a secret, got ${JSON.stringify(value)}`);
  return value.value;
}

let withoutGuest: MockRun;
let withGuest: MockRun;
beforeAll(async () => {
  [withoutGuest, withGuest] = await Promise.all([run(BASE_CONFIG), run(GUEST_CONFIG)]);
});

describe("the passthrough", () => {
  test("declares one PassthroughDisk per serial, on the configured VM, each with a serialized provider", () => {
    expect(withoutGuest.error).toBeUndefined();
    const disks = ofType(withoutGuest, DISK_TYPE);
    expect(disks.map((d) => d.name)).toEqual(["disk-WD-WCC4N0000001", "disk-S3Z1NB0K123456X"]);
    for (const [index, disk] of disks.entries()) {
      expect(disk.inputs["disk"]).toEqual({ serial: BASE_CONFIG.diskSerials[index] });
      expect(disk.inputs["vm"]).toEqual({ nameLabel: "media" });
      expect(typeof disk.inputs["__provider"]).toBe("string");
      expect((disk.inputs["__provider"] as string).length).toBeGreaterThan(100);
      // dom0 over SSH, its host key always given (verified by default).
      expect(secretValue(disk.inputs["connection"])).toEqual({
        host: "192.0.2.10",
        port: 22,
        hostKey: HOST_KEY,
        privateKey: SSH_KEY,
      });
    }
  });

  test("runs no command in the guest when no guest is configured", () => {
    expect(withoutGuest.resources.map((r) => r.type)).toEqual([DISK_TYPE, DISK_TYPE]);
    expect(withoutGuest.outputs["shares"]).toEqual([]);
  });

  test("exports each disk's device, VBD and drift by serial", () => {
    expect(withoutGuest.outputs["devices"]).toEqual({ "WD-WCC4N0000001": "xvdb", S3Z1NB0K123456X: "xvdc" });
    expect(withoutGuest.outputs["vbdUuids"]).toEqual({
      "WD-WCC4N0000001": "00000000-0000-4000-8000-000000000001",
      S3Z1NB0K123456X: "00000000-0000-4000-8000-000000000002",
    });
    expect(withoutGuest.outputs["drift"]).toEqual({ "WD-WCC4N0000001": [], S3Z1NB0K123456X: [] });
  });
});

describe("the guest", () => {
  test("mounts each disk by the device its PassthroughDisk reports, after that disk", () => {
    expect(withGuest.error).toBeUndefined();
    const disks = ofType(withGuest, DISK_TYPE);
    const mounts = ofType(withGuest, COMMAND_TYPE).filter((c) => c.name.startsWith("mount-"));
    expect(mounts.map((m) => m.name)).toEqual(["mount-disk1", "mount-disk2"]);
    for (const [index, mount] of mounts.entries()) {
      const path = `/srv/media/disk${index + 1}`;
      const device = `/dev/${index === 0 ? "xvdb" : "xvdc"}1`;
      expect(mount.inputs["create"]).toBe(mountScript(device, path));
      expect(mount.inputs["delete"]).toBe(unmountScript(path));
      expect(mount.dependencies).toContain(disks[index]?.urn);
      expect(mount.inputs["triggers"]).toEqual([`00000000-0000-4000-8000-00000000000${index + 1}`]);
    }
  });

  test("mounts persistently: by the file system's UUID, with nofail, the fstab line replaced, not repeated", () => {
    const lines = mountScript("/dev/xvdb1", "/srv/media/disk1").split("\n");
    expect(lines[0]).toBe("set -eu");
    expect(lines).toContain("uuid=$(blkid -s UUID -o value /dev/xvdb1)");
    // No UUID (no file system): stop before fstab or the mount point are touched.
    expect(lines.findIndex((l) => l.startsWith('[ -n "$uuid" ] ||'))).toBeLessThan(
      lines.findIndex((l) => l.includes("/etc/fstab")),
    );
    const entries = lines.filter((l) => l.includes(">> /etc/fstab"));
    expect(entries).toEqual([
      'echo "UUID=$uuid /srv/media/disk1 auto nofail,x-systemd.device-timeout=10s 0 2" >> /etc/fstab.xen-passthrough',
    ]);
    // The older line for this mount point is dropped first; fstab is replaced in one rename.
    expect(lines).toContain(
      "grep -v '^[^#][^ ]* /srv/media/disk1 ' /etc/fstab > /etc/fstab.xen-passthrough || true",
    );
    expect(lines).toContain("mv /etc/fstab.xen-passthrough /etc/fstab");
    // Mounted through fstab (by UUID), never by the device name, which can change on reboot.
    expect(lines.at(-1)).toBe("mountpoint -q /srv/media/disk1 || mount /srv/media/disk1");
  });

  test("nothing can write into the guest's root disk through a mount point whose disk is missing", () => {
    const lines = mountScript("/dev/xvdb1", "/srv/media/disk1").split("\n");
    const immutable = lines.indexOf("mountpoint -q /srv/media/disk1 || chattr +i /srv/media/disk1");
    expect(immutable).toBeGreaterThan(lines.indexOf("mkdir -p /srv/media/disk1"));
    expect(immutable).toBeLessThan(lines.length - 1); // before the mount: the empty directory refuses writes
    expect(lines.filter((l) => l.includes("/srv/media/disk1/"))).toEqual([]); // nothing written inside
    // Samba refuses to serve the share while the disk is not mounted there.
    const samba = named(withGuest, "samba-shares").inputs["create"] as string;
    for (const path of ["/srv/media/disk1", "/srv/media/disk2"]) {
      expect(samba).toContain(
        `  path = ${path}\n  valid users = media\n  read only = no\n  root preexec = mountpoint -q ${path}\n  root preexec close = yes`,
      );
    }
    // Undone in the other order: unmounted and out of fstab before the mount point is writable again.
    const undo = unmountScript("/srv/media/disk1").split("\n");
    expect(undo.indexOf("if mountpoint -q /srv/media/disk1; then umount /srv/media/disk1; fi")).toBeLessThan(
      undo.indexOf("chattr -i /srv/media/disk1"),
    );
    expect(undo.at(-1)).toBe("chattr -i /srv/media/disk1");
  });

  test("shares the mounts over Samba after every mount, the password through stdin only", () => {
    const samba = named(withGuest, "samba-shares");
    const mountUrns = ofType(withGuest, COMMAND_TYPE)
      .filter((c) => c.name.startsWith("mount-"))
      .map((m) => m.urn);
    expect([...samba.dependencies].sort()).toEqual([...mountUrns].sort());
    const create = samba.inputs["create"] as string;
    expect(create).toContain("[disk1]\n  path = /srv/media/disk1\n  valid users = media");
    expect(create).toContain("[disk2]\n  path = /srv/media/disk2");
    expect(create).toContain("smbpasswd -s -a media");
    expect(secretValue(samba.inputs["stdin"])).toBe(`${SAMBA_PASSWORD}\n${SAMBA_PASSWORD}\n`);
    expect(withGuest.outputs["shares"]).toEqual([
      "\\\\media.example.net\\disk1",
      "\\\\media.example.net\\disk2",
    ]);
  });

  test("connects to the guest with its host key, as root, with the dom0 key by default", () => {
    for (const command of ofType(withGuest, COMMAND_TYPE)) {
      expect(secretValue(command.inputs["connection"])).toMatchObject({
        host: "media.example.net",
        hostKey: GUEST_HOST_KEY,
        user: "root",
        privateKey: SSH_KEY,
      });
    }
  });

  test("runs the commands through sudo for another user, with that user's own key", async () => {
    const result = await run({ ...GUEST_CONFIG, guestUser: "admin", guestPrivateKey: GUEST_KEY });
    expect(result.error).toBeUndefined();
    const mount = named(result, "mount-disk1");
    expect(mount.inputs["create"]).toBe(
      `sudo -n sh -c '${mountScript("/dev/xvdb1", "/srv/media/disk1").replace(/'/g, "'\\''")}'`,
    );
    // The quoted heredoc of the Samba script survives the extra quoting.
    expect(named(result, "samba-shares").inputs["create"]).toContain(`<<'\\''EOF'\\''`);
    expect(secretValue(mount.inputs["connection"])).toMatchObject({ user: "admin", privateKey: GUEST_KEY });
  });

  test("mounts the whole disk with guestPartition 0, under the configured mount root", async () => {
    const result = await run({ ...GUEST_CONFIG, guestPartition: 0, mountRoot: "/mnt/media-disks" });
    expect(named(result, "mount-disk2").inputs["create"]).toBe(
      mountScript("/dev/xvdc", "/mnt/media-disks/disk2"),
    );
  });
});

describe("values that reach a shell are validated before any command is declared", () => {
  test.concurrent.each([
    ["mountRoot", "/srv/media; rm -rf /", /mountRoot/],
    ["mountRoot", "/srv/../etc", /mountRoot/],
    ["mountRoot", "relative/path", /mountRoot/],
    ["guestUser", "root$(id)", /guestUser/],
    ["sambaUser", "media'x", /sambaUser/],
    ["guestPartition", 1.5, /guestPartition/],
    ["diskSerials", [], /diskSerials must be a non-empty list/],
    ["diskSerials", [42], /diskSerials must be a non-empty list/],
  ])("%s %j is refused", async (key, value, message) => {
    const result = await run({ ...GUEST_CONFIG, [key]: value });
    expect(result.error).toMatch(message);
    expect(result.resources).toEqual([]);
  });

  test("a disk with no device (VM halted) stops the guest commands with a clear error", async () => {
    const result = await run(GUEST_CONFIG, { devices: "none" });
    expect(result.error).toMatch(/disk1: the VM reports no usable device for the disk \(""\); start the VM/);
    expect(ofType(result, COMMAND_TYPE)).toEqual([]);
    expect(ofType(result, DISK_TYPE)).toHaveLength(2);
  });

  test("a guest without its host key is refused", async () => {
    const result = await run({ ...GUEST_CONFIG, guestHostKey: "" });
    expect(result.error).toMatch(/guestHostKey is required when guestHost is set/);
    expect(result.resources).toEqual([]);
  });

  test("a guest without a Samba password is refused, without naming any secret", async () => {
    const result = await run({ ...GUEST_CONFIG, sambaPassword: "" });
    expect(result.error).toMatch(/sambaPassword must be set/);
    expect(result.resources.map((r) => r.name)).not.toContain("samba-shares");
  });
});

describe("secrets", () => {
  test("appear only as secret values: never in __provider, plain inputs or outputs", async () => {
    const withGuestKey = await run({ ...GUEST_CONFIG, guestUser: "admin", guestPrivateKey: GUEST_KEY });
    const runs = [withoutGuest, withGuest, withGuestKey];
    for (const result of runs) {
      const plain = JSON.stringify([
        result.resources.map((r) => withoutSecrets(r.inputs)),
        withoutSecrets(result.outputs),
      ]);
      for (const secret of SECRETS) expect(plain).not.toContain(secret);
    }
    // The check can fail: the secrets are there, inside the secret values.
    const everything = JSON.stringify(runs.map((r) => r.resources.map((resource) => resource.inputs)));
    for (const secret of SECRETS) expect(everything).toContain(JSON.stringify(secret).slice(1, -1));
  });

  test("the program reads the keys and password as secrets", () => {
    for (const key of ["sshPrivateKey", "guestPrivateKey", "sambaPassword"]) {
      expect(withGuest.configKeysRead).toContain(`${PROJECT}:${key}`);
    }
  });
});

describe("Home Assistant's Zigbee stick", () => {
  const HA_CONFIG = { ...BASE_CONFIG, homeAssistantVm: "homeassistant", zigbeeSerial: "b6a8e1f2c54e" };

  test("a named Home Assistant VM gets one PassthroughUsb: the stick by vendor:product and serial", async () => {
    const result = await run(HA_CONFIG);
    expect(result.error).toBeUndefined();
    const [zigbee, ...others] = ofType(result, USB_TYPE);
    expect(others).toEqual([]);
    expect(zigbee?.name).toBe("zigbee");
    expect(zigbee?.inputs["device"]).toEqual({ vendorId: "10c4", productId: "ea60", serial: "b6a8e1f2c54e" });
    expect(zigbee?.inputs["vm"]).toEqual({ nameLabel: "homeassistant" });
    expect(secretValue(zigbee?.inputs["connection"])).toEqual({
      host: "192.0.2.10",
      port: 22,
      hostKey: HOST_KEY,
      privateKey: SSH_KEY,
    });
    expect(checkUsbInputs(withSecretsRevealed(zigbee?.inputs) as Record<string, unknown>).failures).toEqual(
      [],
    );
    expect(ofType(result, DISK_TYPE)).toHaveLength(2);
  });

  test("no Home Assistant VM: no USB passthrough", () => {
    expect(ofType(withoutGuest, USB_TYPE)).toEqual([]);
    expect(withoutGuest.outputs["zigbeeNotice"]).toBe("");
  });

  test("a Home Assistant VM without the stick's serial stops the program, saying what to set", async () => {
    const result = await run({ ...BASE_CONFIG, homeAssistantVm: "homeassistant" });
    expect(String(result.error)).toMatch(/set zigbeeSerial too/);
  });
});

describe("the project files", () => {
  const exampleProject = readProjectFile(join(EXAMPLE, "Pulumi.yaml"));
  const rootProject = readProjectFile(join(ROOT, "Pulumi.yaml"));

  test("declare, typed and described, every setting the program reads", () => {
    expect(exampleProject.name).toBe(PROJECT);
    const declared = Object.keys(exampleProject.config ?? {}).map((key) => `${PROJECT}:${key}`);
    expect(declared.sort()).toEqual([...withGuest.configKeysRead].sort());
    expect(configDeclarationProblems(exampleProject)).toEqual([]);
    // Required secrets are declared secret; Pulumi then refuses them in plain text.
    expect(exampleProject.config?.["sshPrivateKey"]?.secret).toBe(true);
  });

  test("settings without a default are exactly those the program requires", async () => {
    const required = Object.entries(exampleProject.config ?? {})
      .filter(([, declaration]) => declaration.default === undefined)
      .map(([key]) => key);
    expect(required.sort()).toEqual(Object.keys(BASE_CONFIG).sort());
    // The program runs with the project's defaults applied, as the CLI applies them.
    const defaults = Object.fromEntries(
      Object.entries(exampleProject.config ?? {})
        .filter(([, declaration]) => declaration.default !== undefined)
        .map(([key, declaration]) => [key, declaration.default]),
    );
    const result = await run({ ...defaults, ...BASE_CONFIG });
    expect(result.error).toBeUndefined();
    expect(result.resources.map((r) => r.type)).toEqual([DISK_TYPE, DISK_TYPE]);
  });

  test("the repository's Pulumi.yaml runs the compiled homelab program with the same settings", () => {
    expect(rootProject.name).toBe(PROJECT);
    expect(rootProject.config).toEqual(exampleProject.config);
    expect(rootProject.main).toBe("examples/homelab/dist/index.js");
    expect(existsSync(join(ROOT, rootProject.main ?? ""))).toBe(true);
    expect(existsSync(join(EXAMPLE, exampleProject.main ?? ""))).toBe(true);
  });

  test("the sample stack file runs the program once the secrets are set, with inputs the provider accepts", async () => {
    const sample = readStackConfig(join(EXAMPLE, "Pulumi.example.yaml"), PROJECT);
    const result = await run({ ...sample, sshPrivateKey: SSH_KEY, sambaPassword: SAMBA_PASSWORD });
    expect(result.error).toBeUndefined();
    expect(ofType(result, DISK_TYPE)).toHaveLength(2);
    expect(ofType(result, USB_TYPE)).toHaveLength(1);
    for (const usb of ofType(result, USB_TYPE)) {
      expect(checkUsbInputs(withSecretsRevealed(usb.inputs) as Record<string, unknown>).failures).toEqual([]);
    }
    for (const disk of ofType(result, DISK_TYPE)) {
      const inputs = withSecretsRevealed(disk.inputs) as Record<string, unknown>;
      expect(checkInputs({}, inputs).failures).toEqual([]);
    }
    expect(ofType(result, COMMAND_TYPE).map((c) => c.name)).toEqual([
      "mount-disk1",
      "mount-disk2",
      "samba-shares",
    ]);
  });
});
