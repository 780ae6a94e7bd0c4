import { randomBytes, randomUUID } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { XapiSimulator, XapiSimulatorOptions } from "../xapi";
import { startXapiSimulator } from "../xapi";
import type { SandboxDescription, SandboxDisk } from "./description";
import { namespaceDeviceDirectory } from "./device-directory";
import type { DiskImage } from "./disks";
import { createDiskImages, diskNameLabel } from "./disks";
import { SandboxError } from "./errors";
import { FIXTURE_RULES_PATH, diskIdentities, renderFixtureRules } from "./identities";
import { renderInventory } from "./inventory";
import { attachLoop, detachLoop, freeLoopDevice } from "./loop";
import type { Namespace } from "./namespace";
import { startNamespace } from "./namespace";
import { PASSWORD_TOOLS, TOOLS, assertPrerequisites } from "./prerequisites";
import { nsenterArgs, run } from "./run";
import { DOM0_PATH, freePort, generateSshKeys, startSshd } from "./sshd";
import { Teardown } from "./teardown";
import { installDom0Tools } from "./tools/install";
import type { Udevd } from "./udevd";
import { startUdevd } from "./udevd";

type SimulatorOptions = XapiSimulatorOptions;

export interface SandboxOptions {
  /** Free loop disks to create (the in-use disk comes on top). Default 4. */
  disks?: number;
  /** Also allow SSH password login for root (a generated password; needs openssl). */
  passwordLogin?: boolean;
  /** The simulator's service-time profile. */
  profile?: SimulatorOptions["profile"];
  /** The simulator's inventory model. */
  model?: SimulatorOptions["model"];
  /** The host's name label. Default "xen-sandbox". */
  hostNameLabel?: string;
}

/** What `exec` returns: the command's output and exit code (it never throws on a non-zero exit). */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** A running sandbox: its description plus the handles tests drive it with. */
export interface Sandbox extends SandboxDescription {
  /** The XAPI simulator, for its control surface (faults, delays, drift, trace). */
  readonly simulator: XapiSimulator;
  /** The namespace holder's pid: `nsenter -t <pid> -m` enters dom0. */
  readonly holderPid: number;
  /** The JSON-safe description (the CLI's line), with the disks' current kernel names. */
  describe(): SandboxDescription;
  /** Runs a shell command in dom0 (dom0's PATH, xe included). */
  exec(command: string): Promise<ExecResult>;
  /** Reads a file as dom0 sees it. */
  readFile(path: string): Promise<string>;
  /** Hot-unplugs a disk: a real udev remove event, then the loop device goes away. */
  unplugDisk(serial: string): Promise<void>;
  /** Plugs an unplugged disk back in (at `kernelName` if given, else the first free loop device). */
  replugDisk(serial: string, kernelName?: string): Promise<string>;
  /** "Reboots" a disk: unplug, then back under another kernel name. Returns the new name. */
  rebootDisk(serial: string): Promise<string>;
  /** Removes everything the sandbox made: processes, mounts, loop devices, files. */
  stop(): Promise<void>;
}

const USE_MOUNTPOINT = "/var/lib/dom0-data";

async function writeInNamespace(namespace: Namespace, path: string, text: string): Promise<void> {
  const outside = namespace.outside(path);
  await mkdir(join(outside, ".."), { recursive: true });
  await writeFile(outside, text);
}

/** Gives root a generated password in the namespace's private /etc/shadow (the host's stays untouched). */
async function setRootPassword(namespace: Namespace, password: string): Promise<void> {
  const { stdout } = await run("openssl", ["passwd", "-6", "-stdin"], `${password}\n`);
  const shadowPath = namespace.outside("/etc/shadow");
  const shadow = await readFile(shadowPath, "utf8");
  const lines = shadow.split("\n").map((line) => {
    const fields = line.split(":");
    if (fields[0] !== "root") return line;
    fields[1] = stdout.trim();
    return fields.join(":");
  });
  await writeFile(shadowPath, lines.join("\n"));
}

function execIn(namespace: Namespace, command: string): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      "nsenter",
      nsenterArgs(namespace.holderPid, "/bin/sh", ["-c", command]),
      { encoding: "utf8", env: { ...process.env, PATH: DOM0_PATH }, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ stdout, stderr, exitCode: code });
      },
    );
  });
}

/** The disk events (unplug, replug, reboot) over real loop devices and real udev events. */
class DiskEvents {
  constructor(
    private readonly images: readonly DiskImage[],
    private readonly disks: SandboxDisk[],
    private readonly attached: Set<string>,
    private readonly udevd: Udevd,
  ) {}

  private find(serial: string): { disk: SandboxDisk; image: DiskImage } {
    const index = this.disks.findIndex((disk) => disk.serial === serial);
    const disk = this.disks[index];
    const image = this.images[index];
    if (disk === undefined || image === undefined) {
      const known = this.disks.map((candidate) => candidate.serial).join(", ");
      throw new SandboxError("DISK_UNKNOWN", { serial }, `no sandbox disk has serial ${serial} (known: ${known})`);
    }
    return { disk, image };
  }

  async attach(image: DiskImage, kernelName?: string): Promise<string> {
    const name = await attachLoop(image.imagePath, kernelName);
    this.attached.add(name);
    return name;
  }

  async unplug(serial: string): Promise<void> {
    const { disk } = this.find(serial);
    if (disk.kernelName === "") return;
    // The remove event first, while udev can still read the device's identity; then the detach.
    await this.udevd.trigger("remove", disk.kernelName);
    await detachLoop(disk.kernelName);
    this.attached.delete(disk.kernelName);
    disk.kernelName = "";
    await this.udevd.settle();
  }

  async replug(serial: string, kernelName?: string): Promise<string> {
    const { disk, image } = this.find(serial);
    if (disk.kernelName !== "") return disk.kernelName;
    disk.kernelName = await this.attach(image, kernelName);
    await this.udevd.settle();
    return disk.kernelName;
  }

  async reboot(serial: string): Promise<string> {
    const { disk } = this.find(serial);
    const next = await freeLoopDevice(disk.kernelName);
    await this.unplug(serial);
    return this.replug(serial, next);
  }
}

/**
 * Starts a simulated XenServer host: the XAPI simulator plus a dom0 in a private mount
 * namespace with a real udevd, a real sshd and loop disks that look like SATA disks.
 * Needs root on Linux. A start that fails half-way removes what it had made.
 *
 * @example
 * const sandbox = await startSandbox({ disks: 2 });
 * try { console.log(sandbox.describe()); } finally { await sandbox.stop(); }
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const passwordLogin = options.passwordLogin ?? false;
  assertPrerequisites(passwordLogin ? [...TOOLS, ...PASSWORD_TOOLS] : TOOLS);
  const teardown = new Teardown();
  try {
    return await buildSandbox(options, passwordLogin, teardown);
  } catch (error) {
    await teardown.run().catch((rollbackError: unknown) => {
      throw new AggregateError([error, rollbackError], `sandbox start failed and so did its rollback`);
    });
    throw error;
  }
}

async function buildSandbox(options: SandboxOptions, passwordLogin: boolean, teardown: Teardown): Promise<Sandbox> {
  const stateDir = await mkdtemp(join(tmpdir(), "xen-sandbox-"));
  teardown.defer(`remove ${stateDir}`, () => rm(stateDir, { recursive: true, force: true }));

  const identities = diskIdentities(options.disks ?? 4, randomBytes(3).toString("hex"));
  const [images, keys, sshPort] = await Promise.all([
    createDiskImages(join(stateDir, "disks"), identities),
    generateSshKeys(stateDir),
    freePort(),
  ]);

  // Detached after the namespace is gone, so the in-use disk's mount no longer holds it.
  const attached = new Set<string>();
  teardown.defer("detach loop devices", async () => {
    for (const name of attached) await detachLoop(name);
    attached.clear();
  });

  const namespace = await startNamespace(stateDir, teardown);
  await writeInNamespace(namespace, FIXTURE_RULES_PATH, renderFixtureRules(images));
  await installDom0Tools(namespace);

  const byImage = new Map(images.map((image) => [image.imagePath, image.identity]));
  const hostUuid = randomUUID();
  const hostNameLabel = options.hostNameLabel ?? "xen-sandbox";
  const simulator = await startXapiSimulator({
    hostUuid,
    hostNameLabel,
    devices: namespaceDeviceDirectory(namespace.outside, (kernelName, backing) => {
      const identity = backing === undefined ? undefined : byImage.get(backing);
      return identity === undefined ? `unknown ${kernelName}` : diskNameLabel(identity);
    }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    ...(options.model === undefined ? {} : { model: options.model }),
  });
  teardown.defer("stop XAPI simulator", () => simulator.stop());
  for (const socket of ["/var/lib/xcp/xapi", "/var/xapi/xapi"]) {
    await mkdir(namespace.outside(join(socket, "..")), { recursive: true });
    await simulator.listenUnix(namespace.outside(socket));
  }

  const controlDomain = simulator.control.state().vms.find((vm) => vm.isControlDomain);
  await writeInNamespace(
    namespace,
    "/etc/xensource-inventory",
    renderInventory({ installationUuid: hostUuid, controlDomainUuid: controlDomain?.uuid ?? randomUUID() }),
  );
  const rootPassword = passwordLogin ? randomBytes(12).toString("base64url") : undefined;
  if (rootPassword !== undefined) await setRootPassword(namespace, rootPassword);

  const [udevd, sshd] = await Promise.all([
    startUdevd(namespace, teardown),
    startSshd(
      namespace,
      join(stateDir, "sshd_config"),
      {
        port: sshPort,
        hostKeyPath: keys.hostKeyPath,
        authorizedKeysPath: keys.clientPublicKeyPath,
        passwordLogin,
      },
      teardown,
    ),
  ]);
  // Runs first at stop: SSH sessions and RUN programs still alive, children before parents.
  teardown.defer("kill leftover processes in dom0", async () => {
    await namespace.killStragglers([udevd.process.pid, sshd.pid]);
  });

  const disks: SandboxDisk[] = images.map(({ identity }) => ({
    serial: identity.serial,
    wwn: identity.wwn,
    byId: identity.byId,
    kernelName: "",
    sizeBytes: identity.sizeBytes,
    inUse: identity.inUse,
  }));
  const events = new DiskEvents(images, disks, attached, udevd);
  for (const [index, image] of images.entries()) {
    const disk = disks[index];
    if (disk !== undefined) disk.kernelName = await events.attach(image);
  }
  await udevd.settle();
  const inUse = disks.find((disk) => disk.inUse);
  if (inUse !== undefined) {
    await mkdir(namespace.outside(USE_MOUNTPOINT), { recursive: true });
    // Read-only and without journal replay: mounting writes nothing to the disk.
    await namespace.run("mount", ["-o", "ro,noload", `/dev/${inUse.kernelName}`, USE_MOUNTPOINT]);
  }

  const describe = (): SandboxDescription => ({
    xapi: {
      url: simulator.url,
      username: simulator.username,
      password: simulator.password,
      tlsFingerprint: simulator.tlsFingerprint,
    },
    ssh: {
      host: "127.0.0.1",
      port: sshPort,
      user: "root",
      privateKeyPath: keys.clientPrivateKeyPath,
      hostKey: keys.hostPublicKey,
      ...(rootPassword === undefined ? {} : { password: rootPassword }),
    },
    host: { uuid: hostUuid, nameLabel: hostNameLabel },
    disks: disks.map((disk) => ({ ...disk })),
    vms: simulator.vms.map((vm) => ({ uuid: vm.uuid, nameLabel: vm.nameLabel, powerState: vm.powerState })),
    controlUrl: simulator.controlUrl,
  });

  let stopping: Promise<void> | undefined;
  return {
    ...describe(),
    disks,
    simulator,
    holderPid: namespace.holderPid,
    describe,
    exec: (command) => execIn(namespace, command),
    readFile: (path) => readFile(namespace.outside(path), "utf8"),
    unplugDisk: (serial) => events.unplug(serial),
    replugDisk: (serial, kernelName) => events.replug(serial, kernelName),
    rebootDisk: (serial) => events.reboot(serial),
    stop: () => (stopping ??= teardown.run()),
  };
}
