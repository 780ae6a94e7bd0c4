import { randomBytes, randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { lstatSync, unlinkSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { isIP } from "node:net";
import type { AddressInfo } from "node:net";
import { ALL_SCHEMAS, buildMethodTable } from "./classes/all";
import { reconcileUdevSr } from "./classes/sr";
import { readUdevDirectory } from "./classes/udev-vdi";
import { hostListenAddress, listenPool } from "./pool-listen";
import { createControl } from "./control/control";
import type { SimulatorControl } from "./control/control";
import { controlRequestHandler } from "./control/control-http";
import { FaultRules } from "./control/fault-rules";
import { zeroProfile } from "./control/profile";
import type { ServiceTimeProfile } from "./control/profile";
import { CallTrace } from "./control/trace";
import { Database } from "./database";
import { InMemoryDeviceDirectory } from "./devices";
import type { DeviceDirectory } from "./devices";
import { Dispatcher } from "./dispatch/dispatcher";
import { DEFAULT_GC_INTERVAL_MS, GcTimer } from "./gc";
import { startVmAsXe } from "./autostart";
import { rebootHost } from "./host-reboot";
import type { Dom0BootHooks, RebootOptions } from "./host-reboot";
import { hostUsbDevices, seedPool, startSeededGuests } from "./seed";
import { DEFAULT_SM_VERSION, checkSmVersion, softwareVersionOf } from "./sm-version";
import type { ModelOptions } from "./seed";
import { xapiRequestHandler } from "./wire/http";
import { generateServerCertificate } from "./wire/tls";
import type { PoolHost, World } from "./world";

export interface XapiSimulatorOptions {
  /** Listen address, default 127.0.0.1. */
  host?: string;
  /** TLS port, default 0 (a free port). */
  port?: number;
  /** Default random; the dom0 sandbox passes its INSTALLATION_UUID. */
  hostUuid?: string;
  /** Default "xp-sandbox-host". */
  hostNameLabel?: string;
  /** Remote (TLS) login credentials; default "root" and a generated password. */
  username?: string;
  password?: string;
  /** What the udev SR scan lists; default an in-memory directory editable through `control.devices`. */
  devices?: DeviceDirectory;
  /** Guests to create; default "media-server" Running and "archive" Halted (plus dom0's control domain). */
  model?: ModelOptions;
  /** When set, this host is a pool member: login answers HOST_IS_SLAVE [masterAddress]. */
  masterAddress?: string;
  /**
   * The pool's other hosts (members): one shared database, each member with its own dom0, SRs
   * (its own udev SR, listing `devices`), HTTPS listener (remote logins answer HOST_IS_SLAVE)
   * and Unix sockets (listenUnix with its uuid: local superuser logins served with pool data).
   */
  members?: PoolMemberOptions[];
  /** Service times; default zero delays. */
  profile?: ServiceTimeProfile;
  /**
   * Period of the database GC that destroys VBDs left with a dead VDI (XAPI: 30 s, the default);
   * 0 = only when triggered through `control.gc.run()` or `POST /gc`.
   */
  gcIntervalMs?: number;
  /**
   * Not like XAPI: run the GC right after every change, so a forgotten VDI's VBDs vanish at once
   * (the simulator's behaviour before it modelled the window). Opt-in, for callers that still
   * rely on it; default false.
   */
  gcImmediately?: boolean;
  /**
   * The master's storage manager version (`rpm -q sm`): "3.2.3" (default, XCP-ng 8.3 /
   * XenServer 8: the udev SR resolves symlinks) or e.g. "2.30.8" (XCP-ng 8.2: it does not).
   */
  smVersion?: string;
}

export interface PoolMemberOptions {
  /** Default random. */
  hostUuid?: string;
  /** Default "xp-sandbox-member-<n>". */
  hostNameLabel?: string;
  /** What this member's udev SR scan lists; default an empty in-memory directory. */
  devices?: DeviceDirectory;
  /** This member's storage manager version (see XapiSimulatorOptions.smVersion). */
  smVersion?: string;
}

/** One host of the simulated pool as clients reach it. */
export interface SimulatedHost {
  uuid: string;
  nameLabel: string;
  ref: string;
  /** This host's own HTTPS listener (a member's answers remote logins with HOST_IS_SLAVE). */
  url: string;
  isMaster: boolean;
}

export interface XapiSimulator {
  /** https://127.0.0.1:<port> */
  url: string;
  username: string;
  password: string;
  /** SHA-256 of the certificate, "AA:BB:…" (Node's X509Certificate.fingerprint256 form). */
  tlsFingerprint: string;
  certificatePem: string;
  /** http://127.0.0.1:<port> control endpoint (JSON, loopback only). */
  controlUrl: string;
  host: { uuid: string; nameLabel: string };
  /** Every host of the pool, master first (one for a standalone host). */
  hosts: SimulatedHost[];
  vms: Array<{ uuid: string; nameLabel: string; powerState: string }>;
  /** In-process control surface (same operations as the HTTP endpoint). */
  control: SimulatorControl;
  /**
   * Plain-HTTP XAPI (both protocols) on a Unix socket of host `hostUuid` (default the master);
   * any login there is a local superuser (like dom0's /var/lib/xcp/xapi).
   */
  listenUnix(path: string, hostUuid?: string): Promise<void>;
  /**
   * Gives host `hostUuid` a dom0: its reboots (control.hosts.reboot) then run these hooks for the
   * disks, /dev, udev and boot units. Without, a reboot only restarts XAPI over its in-memory devices.
   */
  attachDom0(hostUuid: string, hooks: Dom0BootHooks): void;
  /** Closes every listener, ends pending event.from long polls, removes the Unix sockets it created. */
  stop(): Promise<void>;
}

function listen(server: Server, target: { port: number; host: string } | string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (typeof target === "string") server.listen(target, done);
    else server.listen(target.port, target.host, done);
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** host.software_version names the product release that ships the host's sm (see sm-version.ts). */
function setSoftwareVersion(db: Database, host: string, smVersion: string): void {
  db.update(host, { software_version: softwareVersionOf(smVersion) });
}

/** Removes a stale socket left by a crashed run; refuses to touch anything that is not a socket. */
function removeStaleSocket(path: string): void {
  try {
    if (!lstatSync(path).isSocket())
      throw new Error(`${path} exists and is not a socket: refusing to replace it`);
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * Starts a simulated XenServer/XCP-ng host speaking XAPI over HTTPS (JSON-RPC on /jsonrpc,
 * XML-RPC elsewhere), plus a JSON control endpoint.
 *
 * @example
 * const sim = await startXapiSimulator();
 * const xapi = createClient({ url: sim.url, auth: { user: sim.username, password: sim.password }, allowUnauthorized: true });
 * await xapi.connect();
 * await sim.stop();
 */
export async function startXapiSimulator(options: XapiSimulatorOptions = {}): Promise<XapiSimulator> {
  const hostInfo = {
    uuid: options.hostUuid ?? randomUUID(),
    nameLabel: options.hostNameLabel ?? "xp-sandbox-host",
  };
  const credentials = {
    username: options.username ?? "root",
    password: options.password ?? randomBytes(12).toString("base64url"),
  };
  const members = (options.members ?? []).map((member, index) => ({
    uuid: member.hostUuid ?? randomUUID(),
    nameLabel: member.hostNameLabel ?? `xp-sandbox-member-${index + 1}`,
    devices: member.devices ?? new InMemoryDeviceDirectory(),
    smVersion: checkSmVersion(member.smVersion ?? DEFAULT_SM_VERSION),
  }));
  const smVersions = [
    checkSmVersion(options.smVersion ?? DEFAULT_SM_VERSION),
    ...members.map((m) => m.smVersion),
  ];
  const db = new Database(ALL_SCHEMAS);
  const seeded = seedPool(db, [hostInfo, ...members], options.model ?? {});
  const devices = [
    options.devices ?? new InMemoryDeviceDirectory(),
    ...members.map((member) => member.devices),
  ];
  const hosts: PoolHost[] = seeded.hosts.map((host, index) => ({
    ref: host.host,
    controlDomain: host.controlDomain,
    removableSr: host.removableSr,
    devices: devices[index] as DeviceDirectory,
    usbDevices: hostUsbDevices(options.model ?? {}, index),
    smVersion: smVersions[index] ?? DEFAULT_SM_VERSION,
  }));
  for (const host of hosts) setSoftwareVersion(db, host.ref, host.smVersion);
  const master = hosts[0] as PoolHost;
  const world: World = {
    db,
    methods: buildMethodTable(),
    pool: seeded.pool,
    host: master.ref,
    controlDomain: master.controlDomain,
    removableSr: master.removableSr,
    devices: master.devices,
    hosts,
    credentials,
    masterAddress: options.masterAddress,
    down: new Set(),
    emergency: new Set(),
  };
  await startSeededGuests(world, seeded);
  // As at host boot: each removable SR starts with one VDI per device already present.
  for (const host of hosts)
    reconcileUdevSr(
      db,
      host.removableSr,
      await readUdevDirectory(host.devices, host.smVersion, host.usbDisks),
    );

  const stopping = new AbortController();
  // Every pending delay listens on this one signal: a pool's dozens of concurrent calls are
  // expected, not a leak (Node warns past 10 listeners).
  setMaxListeners(0, stopping.signal);
  const faults = new FaultRules();
  const trace = new CallTrace();
  const profileSlot = { current: options.profile ?? zeroProfile };
  const dispatcher = new Dispatcher({
    world,
    faults,
    trace,
    profile: () => profileSlot.current,
    signal: stopping.signal,
  });
  const gc = new GcTimer(db, options.gcIntervalMs ?? DEFAULT_GC_INTERVAL_MS, options.gcImmediately === true);
  const dom0s = new Map<string, Dom0BootHooks>();
  const startVm = (vm: string, host: string) => startVmAsXe(dispatcher, vm, host);
  // Each host's XAPI listeners (HTTPS and Unix sockets): a reboot resets their connections.
  const listenersOf = new Map<string, Server[]>();
  const dropConnections = (host: string) => {
    for (const server of listenersOf.get(host) ?? []) server.closeAllConnections();
  };
  const reboots = {
    reboot: (hostRef: string, rebootOptions: RebootOptions) =>
      rebootHost({ world, gc, startVm, dropConnections }, hostRef, dom0s.get(hostRef), rebootOptions),
  };
  const control = createControl(world, faults, trace, profileSlot, gc, reboots);

  const listenHost = options.host ?? "127.0.0.1";
  const addresses = new Set(["127.0.0.1", ...hosts.map((_, index) => hostListenAddress(listenHost, index))]);
  const certificate = await generateServerCertificate(
    hostInfo.nameLabel,
    [...addresses].filter((address) => isIP(address) !== 0),
  );
  // One HTTPS listener per host (the master's on options.port); they share the certificate.
  const tlsServers = hosts.map((host) =>
    createHttpsServer({ key: certificate.privateKeyPem, cert: certificate.certificatePem }, (req, res) => {
      void xapiRequestHandler(dispatcher, "tls", host.ref)(req, res);
    }),
  );
  const tlsServer = tlsServers[0] as Server;
  const controlServer = createHttpServer((req, res) => void controlRequestHandler(control)(req, res));
  const servers: Server[] = [...tlsServers, controlServer];
  hosts.forEach((host, index) => listenersOf.set(host.ref, [tlsServers[index] as Server]));
  const unixPaths: string[] = [];
  await listenPool(tlsServers, listenHost, options.port ?? 0);
  await listen(controlServer, { port: 0, host: "127.0.0.1" });
  const urlOf = (server: Server) => {
    const { address, port } = server.address() as AddressInfo;
    return `https://${address.includes(":") ? `[${address}]` : address}:${port}`;
  };
  // host.address is what HOST_IS_SLAVE names: the master's listen address (an IP, as upstream).
  hosts.forEach((host, index) => db.update(host.ref, { address: hostListenAddress(listenHost, index) }));

  return {
    url: urlOf(tlsServer),
    username: credentials.username,
    password: credentials.password,
    tlsFingerprint: certificate.fingerprint256,
    certificatePem: certificate.certificatePem,
    controlUrl: `http://127.0.0.1:${(controlServer.address() as AddressInfo).port}`,
    host: hostInfo,
    hosts: hosts.map((host, index) => ({
      uuid: db.str(host.ref, "uuid"),
      nameLabel: db.str(host.ref, "name_label"),
      ref: host.ref,
      url: urlOf(tlsServers[index] as Server),
      isMaster: index === 0,
    })),
    vms: control
      .state()
      .vms.filter((vm) => !vm.isControlDomain)
      .map(({ uuid, nameLabel, powerState }) => ({ uuid, nameLabel, powerState })),
    control,
    async listenUnix(path, hostUuid) {
      const host =
        hostUuid === undefined ? master : hosts.find((each) => db.str(each.ref, "uuid") === hostUuid);
      if (host === undefined) throw new Error(`no host ${hostUuid} in the simulated pool`);
      removeStaleSocket(path);
      const server = createHttpServer(
        (req, res) => void xapiRequestHandler(dispatcher, "unix", host.ref)(req, res),
      );
      await listen(server, path);
      servers.push(server);
      listenersOf.get(host.ref)?.push(server);
      unixPaths.push(path);
    },
    attachDom0(hostUuid, hooks) {
      const host = hosts.find((each) => db.str(each.ref, "uuid") === hostUuid);
      if (host === undefined) throw new Error(`no host ${hostUuid} in the simulated pool`);
      dom0s.set(host.ref, hooks);
    },
    async stop() {
      stopping.abort();
      gc.stop();
      await Promise.all(servers.map(close));
      for (const path of unixPaths) removeStaleSocket(path);
    },
  };
}
