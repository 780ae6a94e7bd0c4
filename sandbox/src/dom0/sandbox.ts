import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type {
  DeviceDirectory,
  RebootOptions,
  RebootReport,
  XapiSimulator,
  XapiSimulatorOptions,
} from "../xapi";
import { DEFAULT_SM_VERSION, checkSmVersion, startXapiSimulator } from "../xapi";
import type { SandboxDescription, SandboxDisk } from "./description";
import { namespaceDeviceDirectory } from "./device-directory";
import { createDiskImages, diskNameLabel, mountInUseDisk } from "./disks";
import {
  FIXTURE_RULES_PATH,
  checkDiskBuses,
  diskIdentities,
  renderFixtureRules,
  type DiskBus,
} from "./identities";
import { renderInventory } from "./inventory";
import { DiskEvents } from "./disk-events";
import { dom0BootHooks } from "./reboot";
import { createExecFaults, type ExecFaults } from "./exec-faults";
import { detachLoop } from "./loop";
import type { Namespace } from "./namespace";
import { startNamespace } from "./namespace";
import { PASSWORD_TOOLS, TOOLS, assertPrerequisites } from "./prerequisites";
import { setRootPassword } from "./root-password";
import type { ExecResult } from "./run";
import { shellIn } from "./run";
import { DOM0_PATH, generateSshKeys, startSshdOnFreePort } from "./sshd";
import { STATE_DIR_PREFIX, reapStaleSandboxes, writeOwner } from "./stale";
import { Teardown } from "./teardown";
import { installDom0Tools } from "./tools/install";
import { startUdevd } from "./udevd";

export interface SandboxOptions {
  /** Free loop disks to create (the in-use disk comes on top). Default 4. */
  disks?: number;
  /**
   * The bus of each free disk, in order (free disks past the list's end, and the in-use disk, are
   * "sata"): "sata" (ata_id's properties), "sas" (scsi_id's, systemd 219) or "nvme-centos7" (no
   * identity properties, as CentOS 7's stock rules give an NVMe disk). Default all "sata".
   */
  diskBuses?: readonly DiskBus[];
  /** Also allow SSH password login for root (a generated password, in ssh.password). */
  passwordLogin?: boolean;
  /** The simulator's service-time profile. */
  profile?: XapiSimulatorOptions["profile"];
  /** The simulator's inventory model. */
  model?: XapiSimulatorOptions["model"];
  /** The host's name label. Default "xen-sandbox". */
  hostNameLabel?: string;
  /** The simulator's database GC period (default XAPI's 30 s; 0 = only when triggered). */
  gcIntervalMs?: XapiSimulatorOptions["gcIntervalMs"];
  /** Not like XAPI, opt-in: the GC runs after every change (see XapiSimulatorOptions). */
  gcImmediately?: XapiSimulatorOptions["gcImmediately"];
  /** Run every SSH session through the exec-fault wrapper (sandbox.execFaults). Default false. */
  execFaults?: boolean;
  /**
   * The host's storage manager version, as `rpm -q --qf '%{VERSION}\n' sm` answers in dom0:
   * "3.2.3" (default: XCP-ng 8.3 / XenServer 8, symlinks in /dev/xapi/block resolved) or "2.30.8"
   * (XCP-ng 8.2 / XenServer 8.2 CU1: not resolved). Resolution iff >= 3.0.6.
   */
  smVersion?: string;
}

/** A running sandbox: its description plus the handles tests drive it with. */
export interface Sandbox extends SandboxDescription {
  /** The XAPI simulator, for its control surface (faults, delays, drift, trace). */
  readonly simulator: XapiSimulator;
  /** The namespace holder's pid: `nsenter -t <pid> -m` enters dom0. */
  readonly holderPid: number;
  /** SSH exec fault orders, when started with `execFaults: true`. */
  readonly execFaults: ExecFaults | undefined;
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
  /**
   * Reboots the whole host, in a real host's order: its VMs halt, XAPI stops, every disk detaches,
   * /dev empties, disks re-attach (those in `kernelNames`, by serial, at those names: two disks
   * can swap), udev coldplug runs while XAPI is down, XAPI starts (initial GC on the master, PBDs
   * plugged, the udev SR scanned), the enabled boot units between xapi-init-complete.target and
   * xapi-domains.service run, then VMs with other-config:auto_poweron=true start (when the pool's
   * other-config:auto_poweron is true). Bad options are refused before anything changes.
   */
  reboot(options?: RebootOptions): Promise<RebootReport>;
  /** The storage manager version dom0's rpm reports (see SandboxOptions.smVersion). */
  readonly smVersion: string;
  /** Authenticated SSH connections sshd has accepted so far (from its log). */
  sshConnections(): number;
  /** SSH sessions (exec, shell, subsystem; not forwarding channels) sshd has started so far. */
  sshSessions(): number;
  /** The tail of what dom0's udevd printed (its warnings: a rule it could not read, a worker that failed). */
  udevdOutput(): string;
  /** Removes everything the sandbox made: processes, mounts, loop devices, files. */
  stop(): Promise<void>;
}

async function writeInNamespace(namespace: Namespace, path: string, text: string): Promise<void> {
  const outside = namespace.outside(path);
  await mkdir(join(outside, ".."), { recursive: true });
  await writeFile(outside, text);
}

/**
 * Starts a simulated XenServer host: the XAPI simulator plus a dom0 in a private mount
 * namespace with a real udevd, a real sshd and loop disks that look like SATA disks (or SAS or
 * CentOS 7 NVMe disks, options.diskBuses).
 * Needs root on Linux. A start that fails half-way removes what it had made.
 *
 * @example
 * const sandbox = await startSandbox({ disks: 2 });
 * try { console.log(sandbox.describe()); } finally { await sandbox.stop(); }
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const passwordLogin = options.passwordLogin ?? false;
  checkDiskBuses(options.diskBuses ?? []);
  assertPrerequisites(passwordLogin ? [...TOOLS, ...PASSWORD_TOOLS] : TOOLS);
  await reapStaleSandboxes();
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

/** A dom0 made up to the point where it needs the simulator: files, disk images, keys, namespace. */
export interface PreparedDom0 {
  stateDir: string;
  smVersion: string;
  images: Awaited<ReturnType<typeof createDiskImages>>;
  keys: Awaited<ReturnType<typeof generateSshKeys>>;
  namespace: Namespace;
  attached: Set<string>;
  devices: DeviceDirectory;
  hostUuid: string;
  hostNameLabel: string;
}

export async function prepareDom0(
  disks: number,
  hostNameLabel: string,
  teardown: Teardown,
  smVersion: string = DEFAULT_SM_VERSION,
  diskBuses: readonly DiskBus[] = [],
): Promise<PreparedDom0> {
  checkSmVersion(smVersion);
  const stateDir = await mkdtemp(join(tmpdir(), STATE_DIR_PREFIX));
  teardown.defer(`remove ${stateDir}`, () => rm(stateDir, { recursive: true, force: true }));
  await writeOwner(stateDir);

  const identities = diskIdentities(disks, randomBytes(3).toString("hex"), diskBuses);
  const [images, keys] = await Promise.all([
    createDiskImages(join(stateDir, "disks"), identities),
    generateSshKeys(stateDir),
  ]);

  // Detached after the namespace is gone, so the in-use disk's mount no longer holds it.
  const attached = new Set<string>();
  teardown.defer("detach loop devices", async () => {
    const results = await Promise.allSettled([...attached].map((name) => detachLoop(name)));
    attached.clear();
    const failures = results.flatMap((result) =>
      result.status === "rejected" ? [result.reason as Error] : [],
    );
    if (failures.length > 0) {
      throw new AggregateError(failures, failures.map((error) => error.message).join("; "));
    }
  });

  const namespace = await startNamespace(stateDir, teardown);
  await writeInNamespace(namespace, FIXTURE_RULES_PATH, renderFixtureRules(images));
  await installDom0Tools(namespace, smVersion);

  const byImage = new Map(images.map((image) => [image.imagePath, image.identity]));
  const devices = namespaceDeviceDirectory(
    (path) => namespace.outside(path),
    (kernelName, backing) => {
      const identity = backing === undefined ? undefined : byImage.get(backing);
      return identity === undefined ? `unknown ${kernelName}` : diskNameLabel(identity);
    },
  );
  return {
    stateDir,
    smVersion,
    images,
    keys,
    namespace,
    attached,
    devices,
    hostUuid: randomUUID(),
    hostNameLabel,
  };
}

async function buildSandbox(
  options: SandboxOptions,
  passwordLogin: boolean,
  teardown: Teardown,
): Promise<Sandbox> {
  const dom0 = await prepareDom0(
    options.disks ?? 4,
    options.hostNameLabel ?? "xen-sandbox",
    teardown,
    options.smVersion ?? DEFAULT_SM_VERSION,
    options.diskBuses ?? [],
  );
  const simulator = await startXapiSimulator({
    hostUuid: dom0.hostUuid,
    hostNameLabel: dom0.hostNameLabel,
    devices: dom0.devices,
    smVersion: dom0.smVersion,
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.gcIntervalMs === undefined ? {} : { gcIntervalMs: options.gcIntervalMs }),
    ...(options.gcImmediately === undefined ? {} : { gcImmediately: options.gcImmediately }),
  });
  teardown.defer("stop XAPI simulator", () => simulator.stop());
  const features = { passwordLogin, execFaults: options.execFaults === true };
  return finishDom0(dom0, simulator, features, teardown, () => teardown.run());
}

/** Serves XAPI in dom0, writes its inventory, starts udevd and sshd, plugs the disks. */
export async function finishDom0(
  dom0: PreparedDom0,
  simulator: XapiSimulator,
  features: { readonly passwordLogin: boolean; readonly execFaults: boolean },
  teardown: Teardown,
  stopAll: () => Promise<void>,
): Promise<Sandbox> {
  const { passwordLogin } = features;
  const { stateDir, images, keys, namespace, attached, hostUuid, hostNameLabel } = dom0;
  for (const socket of ["/var/lib/xcp/xapi", "/var/xapi/xapi"]) {
    await mkdir(namespace.outside(join(socket, "..")), { recursive: true });
    await simulator.listenUnix(namespace.outside(socket), hostUuid);
  }

  const self = simulator.control.state().hosts.find((host) => host.uuid === hostUuid);
  const controlDomain = simulator.control
    .state()
    .vms.find((vm) => vm.isControlDomain && vm.residentOn === self?.ref);
  await writeInNamespace(
    namespace,
    "/etc/xensource-inventory",
    renderInventory({ installationUuid: hostUuid, controlDomainUuid: controlDomain?.uuid ?? randomUUID() }),
  );
  const rootPassword = passwordLogin ? randomBytes(12).toString("base64url") : undefined;
  if (rootPassword !== undefined) await setRootPassword(namespace, rootPassword);

  // Runs once udevd and sshd have stopped: a RUN program or session either left behind (an
  // orphan, so no longer their child) would keep dom0's namespace, mounts and loop disks alive.
  teardown.defer("kill what udevd and sshd left in dom0", async () => {
    await namespace.killStragglers([]);
  });
  const execFaults = features.execFaults ? await createExecFaults(stateDir) : undefined;
  const [firstUdevd, { sshd, port: sshPort }] = await Promise.all([
    startUdevd(namespace, teardown),
    startSshdOnFreePort(
      namespace,
      join(stateDir, "sshd_config"),
      {
        hostKeyPath: keys.hostKeyPath,
        authorizedKeysPath: keys.clientPublicKeyPath,
        passwordLogin,
        ...(execFaults === undefined ? {} : { forceCommand: execFaults.wrapperPath }),
      },
      teardown,
    ),
  ]);
  // A reboot replaces udevd with a new process.
  const udevd = { current: firstUdevd };
  // Runs first at stop: SSH sessions and RUN programs still alive, children before parents.
  teardown.defer("kill leftover processes in dom0", async () => {
    await namespace.killStragglers([udevd.current.process.pid, sshd.process.pid]);
  });

  const disks: SandboxDisk[] = images.map(({ identity }) => ({
    bus: identity.bus,
    serial: identity.serial,
    wwn: identity.wwn,
    byId: identity.byId,
    kernelName: "",
    sizeBytes: identity.sizeBytes,
    inUse: identity.inUse,
  }));
  const events = new DiskEvents(images, disks, attached, () => udevd.current);
  await events.plugAll();
  const inUse = disks.find((disk) => disk.inUse);
  if (inUse !== undefined) await mountInUseDisk(namespace, inUse.kernelName);

  const hostUrl = simulator.hosts.find((host) => host.uuid === hostUuid)?.url ?? simulator.url;
  const describe = (): SandboxDescription => ({
    xapi: {
      url: hostUrl,
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
    vms: guestsOf(simulator, hostUuid),
    controlUrl: simulator.controlUrl,
  });

  simulator.attachDom0(
    hostUuid,
    dom0BootHooks({ namespace, teardown, events, disks, udevd, sshdPid: sshd.process.pid }),
  );

  let stopping: Promise<void> | undefined;
  return {
    ...describe(),
    disks,
    simulator,
    holderPid: namespace.holderPid,
    execFaults,
    describe,
    exec: (command) => shellIn(namespace.holderPid, command, { ...process.env, PATH: DOM0_PATH }),
    readFile: (path) => readFile(namespace.outside(path), "utf8"),
    unplugDisk: (serial) => events.unplug(serial),
    replugDisk: (serial, kernelName) => events.replug(serial, kernelName),
    rebootDisk: (serial) => events.reboot(serial),
    reboot: (options) => simulator.control.hosts.reboot(hostUuid, options),
    smVersion: dom0.smVersion,
    sshConnections: () => sshd.connections(),
    sshSessions: () => sshd.sessions(),
    udevdOutput: () => udevd.current.process.output(),
    stop: () => (stopping ??= stopAll()),
  };
}

/** The guests resident on host `hostUuid` (and, for the master, the halted ones). */
function guestsOf(simulator: XapiSimulator, hostUuid: string): SandboxDescription["vms"] {
  const state = simulator.control.state();
  const host = state.hosts.find((each) => each.uuid === hostUuid);
  return state.vms
    .filter((vm) => !vm.isControlDomain)
    .filter((vm) => vm.residentOn === host?.ref || (host?.isMaster === true && vm.powerState === "Halted"))
    .map((vm) => ({ uuid: vm.uuid, nameLabel: vm.nameLabel, powerState: vm.powerState }));
}
