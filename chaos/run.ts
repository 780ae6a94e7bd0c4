// The chaos driver: one host sandbox (real sshd, udevd, loop disks; XAPI simulated), four
// PassthroughDisk resources on four disks over two VMs and two PassthroughUsb resources on two
// USB sticks over two more VMs, driven through the real dynamic-provider
// host as `pulumi up` / `refresh` / `destroy` would, with faults, SSH cuts, provider kills and
// drift; the invariants are checked after every cycle and after a final clean converge.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DEFAULT_USB_DEVICE,
  HostCallError,
  describePieces,
  listPieces,
  serializeResource,
  startCutProxy,
  startEngine,
  startSandbox,
} from "xen-sandbox";
import type { CutProxy, Engine, ExecFaults, Sandbox, Stored, UsbDevice } from "xen-sandbox";
import { checkInvariants, checkUsbInvariants, type HeldResource } from "./invariants";
import { planCycle, usbDriftOf, type Cycle, type DriftKind, type PlannedFault } from "./plan";
import { seededRandom } from "./prng";
import { count, newTally, type Tally } from "./summary";

const REPO_ROOT = join(__dirname, "..", "..");

export interface ChaosOptions {
  seed: number;
  cycles: number;
  /** Adds two resources naming the first disk: a copy-paste of its serial, and its wwn. */
  sameDisk: boolean;
  /** One line per cycle (progress); default: nothing. */
  log?: (line: string) => void;
}

interface Resource {
  kind: "disk" | "usb";
  name: string;
  serial: string;
  disk: Record<string, string>;
  stored: Stored | undefined;
  /** A create failed or was killed without partial state: pieces may be on the host, the engine holds none. */
  pending: boolean;
  wanted: Pick<Cycle, "vm" | "mode">;
}

/** The USB sticks of the run: a Zigbee coordinator (port 1-2) and a Z-Wave stick (port 1-3). */
const ZWAVE: UsbDevice = {
  ...DEFAULT_USB_DEVICE,
  vendorId: "0658",
  productId: "0200",
  serial: "ZW0001",
  vendorDesc: "Sigma Designs, Inc.",
  productDesc: "Aeotec Z-Stick Gen5 (ZW090) - UZB",
  path: "1-3",
};
const STICKS = [DEFAULT_USB_DEVICE, ZWAVE];
/** The ports a moved stick goes to. */
const PORTS = ["1-2", "1-3", "1-5", "1-6"];
/** The USB resources' VMs (HVM: the disks' PV guests take no VUSB), picked for the disks' VMS[0] / VMS[1]. */
const USB_VMS = { "media-server": "homeassistant", archive: "kodi" } as const;

/** A PassthroughDisk and a PassthroughUsb provider host; `engine` changes when the provider process is killed. */
interface Engines {
  disk: Engine;
  usb: Engine;
}

/** Everything a cycle needs. */
interface Run {
  sandbox: Sandbox;
  proxy: CutProxy;
  execFaults: ExecFaults;
  engines: Engines;
  providers: Record<Resource["kind"], string>;
  resources: Resource[];
  checksums: Map<string, string>;
  tally: Tally;
}

export async function runChaos(options: ChaosOptions): Promise<Tally> {
  const started = Date.now();
  const tally = newTally(options.seed);
  const sandbox = await startSandbox({
    disks: 4,
    execFaults: true,
    // PV guests: updates switch disks to RO, which HVM guests refuse (DISK_VBD_MUST_BE_READWRITE_FOR_HVM).
    model: {
      vms: [
        { nameLabel: "media-server", powerState: "Running", guest: "pv" },
        { nameLabel: "archive", powerState: "Halted", guest: "pv" },
        { nameLabel: USB_VMS["media-server"], powerState: "Running" },
        { nameLabel: USB_VMS.archive, powerState: "Halted" },
      ],
      usbDevices: [STICKS],
    },
  });
  const stops: (() => Promise<void>)[] = [() => sandbox.stop()];
  try {
    const proxy = await startCutProxy({ host: sandbox.ssh.host, port: sandbox.ssh.port });
    stops.unshift(() => proxy.stop());
    const free = sandbox.disks.filter((disk) => !disk.inUse);
    const resources: Resource[] = free.map((disk, index) => ({
      kind: "disk" as const,
      name: `disk-${index}`,
      serial: disk.serial,
      disk: { serial: disk.serial },
      stored: undefined,
      pending: false,
      wanted: { vm: "media-server", mode: "RW" },
    }));
    const first = free[0];
    // Two resources, one disk: a copy-paste (same serial) and the same disk by wwn.
    if (options.sameDisk && first !== undefined && resources[0] !== undefined) {
      resources.push({ ...structuredClone(resources[0]), name: "disk-0-copy" });
      resources.push({ ...structuredClone(resources[0]), name: "disk-0-by-wwn", disk: { wwn: first.wwn } });
    }
    for (const [index, stick] of STICKS.entries()) {
      resources.push({
        kind: "usb",
        name: `usb-${index}`,
        serial: stick.serial,
        disk: { vendorId: stick.vendorId, productId: stick.productId, serial: stick.serial },
        stored: undefined,
        pending: false,
        wanted: { vm: "media-server", mode: "RW" },
      });
    }
    const connection = { host: "127.0.0.1", privateKey: "p", hostKey: "ssh-ed25519 AAAA" };
    const vm = { nameLabel: "v" };
    const providers = {
      disk: (
        await serializeResource(
          { connection, disk: { serial: "S" }, vm },
          { packageName: "pulumi-xen-passthrough", cwd: REPO_ROOT },
        )
      ).provider,
      usb: (
        await serializeResource(
          { connection, device: { vendorId: "10c4", productId: "ea60", serial: "S" }, vm },
          {
            packageName: "pulumi-xen-passthrough",
            exportName: "PassthroughUsb",
            resourceName: "usb",
            cwd: REPO_ROOT,
          },
        )
      ).provider,
    };
    const engines: Engines = {
      disk: await startEngine(providers.disk, { cwd: REPO_ROOT }),
      usb: await startEngine(providers.usb, { cwd: REPO_ROOT }),
    };
    const execFaults = sandbox.execFaults;
    if (execFaults === undefined) throw new Error("the sandbox has no exec faults");
    const run: Run = {
      sandbox,
      proxy,
      execFaults,
      engines,
      providers,
      resources,
      tally,
      checksums: new Map(),
    };
    stops.unshift(
      () => run.engines.disk.host.stop(),
      () => run.engines.usb.host.stop(),
    );
    run.checksums = await checksums(sandbox);

    const random = seededRandom(options.seed);
    for (let index = 1; index <= options.cycles; index++) {
      const held = resources.map((r) => r.stored !== undefined);
      const cycle = planCycle(
        random,
        held,
        resources.map((r) => ({ resource: 0, operation: "create", ...r.wanted })),
      );
      const outcome = await runCycle(run, cycle);
      tally.cycles = index;
      const breaks = await invariantBreaks(run);
      tally.invariantBreaks.push(...breaks.map((b) => `cycle ${index}: ${b}`));
      options.log?.(
        `cycle ${index}: ${describeCycle(run, cycle)} -> ${outcome}${breaks.length > 0 ? ` BROKEN: ${breaks.join("; ")}` : ""}`,
      );
    }
    await finalConverge(run);
    const { pusbs, vusbs } = sandbox.simulator.control.state();
    tally.leaks = [
      ...describePieces(await listPieces(sandbox)),
      ...vusbs.map((vusb) => `VUSB ${vusb.uuid}`),
      ...pusbs
        .filter((pusb) => pusb.passthroughEnabled || Object.keys(pusb.otherConfig).length > 0)
        .map(
          (pusb) =>
            `PUSB ${pusb.uuid} at ${pusb.path} (passthrough ${pusb.passthroughEnabled ? "on" : "off"})`,
        ),
    ];
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    tally.elapsedMs = Date.now() - started;
  }
  return tally;
}

function describeCycle(run: Run, cycle: Cycle): string {
  const resource = run.resources[cycle.resource];
  const target = cycle.drift === undefined ? undefined : run.resources[cycle.drift.resource];
  const drift =
    cycle.drift === undefined
      ? ""
      : `drift ${target?.kind === "usb" ? usbDriftOf(cycle.drift.kind) : cycle.drift.kind} on ${target?.name}, `;
  const fault = cycle.fault === undefined ? "" : ` with ${cycle.fault.kind}@${cycle.fault.at}`;
  const wanted = resource?.kind === "usb" ? USB_VMS[cycle.vm] : `${cycle.vm}, ${cycle.mode}`;
  return `${drift}${cycle.operation} ${resource?.name} (${wanted})${fault}`;
}

function argsOf(run: Run, resource: Resource): Record<string, unknown> {
  const { ssh } = run.sandbox;
  const connection = {
    host: ssh.host,
    port: run.proxy.port,
    user: ssh.user,
    privateKey: readFileSync(ssh.privateKeyPath, "utf8"),
    hostKey: ssh.hostKey,
  };
  if (resource.kind === "usb") {
    return {
      connection,
      device: resource.disk,
      vm: { nameLabel: USB_VMS[resource.wanted.vm] },
      owner: ownerOf(resource),
    };
  }
  return {
    connection,
    disk: resource.disk,
    vm: { nameLabel: resource.wanted.vm },
    mode: resource.wanted.mode,
    // What the PassthroughDisk constructor adds for a real program: <project>/<stack>/<name>.
    owner: ownerOf(resource),
  };
}

// What the resource constructors add for a real program: <project>/<stack>/<name>.
const ownerOf = (resource: Resource) => `chaos/run/${resource.name}`;

async function runCycle(run: Run, cycle: Cycle): Promise<string> {
  const resource = run.resources[cycle.resource];
  if (resource === undefined) throw new Error(`no resource #${cycle.resource}`);
  if (cycle.drift !== undefined) {
    const target = run.resources[cycle.drift.resource];
    if (target !== undefined && (await drift(run, cycle.drift.kind, target)))
      count(run.tally.drifts, target.kind === "usb" ? usbDriftOf(cycle.drift.kind) : cycle.drift.kind);
  }
  count(run.tally.operations, cycle.operation);
  const armed = cycle.fault === undefined ? undefined : await arm(run, cycle.fault, resource.kind);
  let failure: unknown;
  try {
    await operate(run, resource, cycle);
  } catch (error) {
    failure = error;
  } finally {
    const { fired, killed } = (await armed?.disarm()) ?? { fired: false, killed: false };
    // Counted when it struck: a fault aimed past the operation's last call or session never does.
    if (fired && cycle.fault !== undefined) count(run.tally.faults, cycle.fault.kind);
    if (killed)
      run.engines[resource.kind] = await startEngine(run.providers[resource.kind], { cwd: REPO_ROOT });
  }
  if (failure === undefined) return "ok";
  count(run.tally.failures, `${cycle.operation} after ${cycle.fault?.kind ?? "no fault"}`);
  return `failed: ${messageOf(failure).split("\n")[0]}`;
}

/** Carries out the operation, updating what the engine holds exactly as Pulumi would. */
async function operate(run: Run, resource: Resource, cycle: Cycle): Promise<void> {
  const engine = run.engines[resource.kind];
  const create = async () => {
    resource.wanted = { vm: cycle.vm, mode: cycle.mode };
    try {
      resource.stored = await engine.create(argsOf(run, resource));
      resource.pending = false;
    } catch (error) {
      const partial = error instanceof HostCallError ? error.initFailure : undefined;
      if (partial === undefined) resource.pending = true;
      else {
        resource.stored = { id: partial.id, state: partial.properties };
        resource.pending = false;
      }
      throw error;
    }
  };
  const stored = resource.stored;
  switch (cycle.operation) {
    case "create":
      return create();
    case "refresh":
      if (stored !== undefined) resource.stored = await engine.refresh(stored);
      return;
    case "update": {
      if (stored === undefined) return create();
      resource.wanted = { vm: cycle.vm, mode: cycle.mode };
      try {
        resource.stored = await engine.up(stored, argsOf(run, resource));
      } catch (error) {
        const partial = error instanceof HostCallError ? error.initFailure : undefined;
        if (partial !== undefined) resource.stored = { id: partial.id, state: partial.properties };
        throw error;
      }
      return;
    }
    case "replace":
      // deleteBeforeReplace, as the provider's diff asks: delete, then create.
      if (stored !== undefined) {
        await engine.destroy(stored);
        resource.stored = undefined;
      }
      return create();
    case "delete":
      if (stored !== undefined) await engine.destroy(stored);
      resource.stored = undefined;
      return;
  }
}

/** Arms a fault; `disarm` clears every order and says whether the provider process was killed. */
async function arm(
  run: Run,
  fault: PlannedFault,
  kind: Resource["kind"],
): Promise<{ disarm(): Promise<{ fired: boolean; killed: boolean }> }> {
  const { faults } = run.sandbox.simulator.control;
  let done = false;
  let killed = false;
  const sessionsBefore = await run.execFaults.started();
  const cutsBefore = run.proxy.cuts();
  // Holds the `at`-th XAPI call of the operation for `ms`, so a cut or a kill lands while it runs.
  const holdCall = (at: number, ms: number) =>
    faults.add({ method: "*", skip: at - 1, count: 1, action: "delay-only", delayMs: ms }).id;
  const whenHit = (ruleId: string, then: () => Promise<void>) =>
    until(() => done || (faults.list().find((r) => r.id === ruleId)?.hits ?? 0) > 0).then(async () => {
      if (!done) await then();
    });
  let watcher: Promise<void> = Promise.resolve();
  switch (fault.kind) {
    case "xapi-fault":
      faults.add({
        method: "*",
        skip: fault.at - 1,
        count: 1,
        action: { error: { code: "INTERNAL_ERROR", params: ["xen-sandbox: chaos"] } },
      });
      break;
    case "exec-fault":
      await run.execFaults.failSession(fault.at);
      break;
    case "ssh-cut-handshake":
      run.proxy.cutNow();
      run.proxy.cutNextHandshake();
      break;
    case "ssh-cut-exec": {
      const held = await run.execFaults.holdSession(fault.at);
      watcher = until(async () => done || (await run.execFaults.isHeld(held))).then(() => {
        if (!done) run.proxy.cutNow();
      });
      break;
    }
    case "ssh-cut-stream": {
      watcher = whenHit(holdCall(fault.at, 5_000), () => Promise.resolve(void run.proxy.cutNow()));
      break;
    }
    case "provider-kill": {
      watcher = whenHit(holdCall(fault.at, 10_000), async () => {
        killed = true;
        await run.engines[kind].host.stop();
      });
      break;
    }
  }
  return {
    async disarm() {
      done = true;
      await watcher;
      const hits = faults.list().reduce((sum, rule) => sum + rule.hits, 0);
      const fired =
        fault.kind === "xapi-fault"
          ? hits > 0
          : fault.kind === "exec-fault"
            ? (await run.execFaults.started()) >= sessionsBefore + fault.at
            : fault.kind === "provider-kill"
              ? killed
              : run.proxy.cuts() > cutsBefore;
      faults.clear();
      await run.execFaults.clear();
      run.proxy.cancelHandshakeCut();
      return { fired, killed };
    },
  };
}

/** Makes a drift on the resource's pieces; false when there was nothing to drift. */
async function drift(run: Run, kind: DriftKind, resource: Resource): Promise<boolean> {
  if (resource.kind === "usb") return usbDrift(run, kind, resource);
  const state = resource.stored?.state ?? {};
  const { drift: ops } = run.sandbox.simulator.control;
  try {
    switch (kind) {
      case "unplug":
        ops.unplugVbd(String(state["vbdUuid"]));
        return true;
      case "vbd-destroyed":
        ops.destroyVbd(String(state["vbdUuid"]));
        return true;
      case "rule-deleted":
        if (typeof state["rulePath"] !== "string") return false;
        await run.sandbox.exec(`rm -f '${state["rulePath"]}'`);
        return true;
      case "disk-rebooted":
        await run.sandbox.rebootDisk(resource.serial);
        return true;
      case "vm-halted-started":
        ops.setPowerState("media-server", "Halted");
        ops.setPowerState("media-server", "Running");
        return true;
    }
  } catch {
    return false; // e.g. the VBD is already gone
  }
}

/**
 * A USB resource's drift (usbDriftOf), made with the simulator's hands at the host's ports and
 * XAPI's scan: pulled out and plugged back before XAPI noticed the return (its PUSB and VUSB are
 * gone, the provider must ask for a scan), or moved to another port (scanned: a new PUSB).
 */
function usbDrift(run: Run, kind: DriftKind, resource: Resource): boolean {
  const { usb } = run.sandbox.simulator.control;
  const hostUuid = run.sandbox.host.uuid;
  const devices = usb.devices(hostUuid);
  const stick = devices.find((device) => device.serial === resource.serial);
  if (stick === undefined) return false;
  if (usbDriftOf(kind) === "usb-moved") {
    const to = PORTS.find((port) => !devices.some((device) => device.path === port));
    if (to === undefined) return false;
    usb.move(hostUuid, stick.path, { path: to }, { scan: true });
  } else {
    usb.unplug(hostUuid, stick.path, { scan: true });
    usb.plug(hostUuid, stick);
  }
  return true;
}

/**
 * Each free disk's checksum (CRC-32 by cksum: enough to see any change, and fast enough to run
 * after every cycle on a loaded 2-core machine, where sha256sum of the ~350 MB took seconds).
 */
async function checksums(sandbox: Sandbox): Promise<Map<string, string>> {
  const disks = sandbox.describe().disks.filter((disk) => !disk.inUse && disk.kernelName !== "");
  const { stdout } = await sandbox.exec(`cksum ${disks.map((d) => `/dev/${d.kernelName}`).join(" ")}`);
  const sums = stdout
    .trim()
    .split("\n")
    .map((line) => line.split(/\s+/)[0] ?? "");
  return new Map(disks.map((disk, index) => [disk.serial, sums[index] ?? ""]));
}

/**
 * The invariants, once the host has settled: a disk event's SR scan runs in the background of
 * udev's RUN (the rule starts local-device-change with `&`), so a VDI of a disk that just went
 * away can outlive the event by a moment. A break counts when it is still there 2 s later.
 */
async function invariantBreaks(run: Run): Promise<string[]> {
  let breaks = await invariantBreaksNow(run);
  for (let attempt = 0; attempt < 8 && breaks.length > 0; attempt++) {
    // XAPI's database GC (every 30 s on a real host) drops a VBD whose VDI is gone; the provider
    // leaves such a VBD to it (lifecycle/remove.ts): no orphan once the GC has run.
    if (attempt === 0) run.sandbox.simulator.control.gc.run();
    await new Promise((resolve) => setTimeout(resolve, 250));
    breaks = await invariantBreaksNow(run);
  }
  return breaks;
}

async function invariantBreaksNow(run: Run): Promise<string[]> {
  const pieces = await listPieces(run.sandbox);
  const held: HeldResource[] = run.resources
    .filter((r) => r.stored !== undefined || r.pending)
    .map((r) => ({ name: r.name, serial: r.serial, state: r.stored?.state }));
  const disks = run.resources.filter((r) => r.kind === "disk");
  const { ownershipBreaks, orphans } = checkInvariants(
    pieces,
    run.sandbox.describe().disks,
    held.filter((h) => disks.some((r) => r.name === h.name)),
  );
  const owners = run.resources
    .filter((r) => r.kind === "usb" && (r.stored !== undefined || r.pending))
    .map(ownerOf);
  const usbReport = checkUsbInvariants(run.sandbox.simulator.control.state(), owners);
  ownershipBreaks.push(...usbReport.ownershipBreaks);
  orphans.push(...usbReport.orphans);
  const changed: string[] = [];
  for (const [serial, sum] of await checksums(run.sandbox))
    if (run.checksums.get(serial) !== sum) changed.push(`disk ${serial}: contents changed`);
  return [...ownershipBreaks, ...orphans.map((o) => `orphan ${o}`), ...changed];
}

/** No faults: every resource refreshed and brought to its wanted inputs, checked in sync, then all destroyed. */
async function finalConverge(run: Run): Promise<void> {
  for (const resource of run.resources) {
    const args = argsOf(run, resource);
    try {
      // `pulumi up --refresh`: what is on the host now first, then the update from there.
      const engine = run.engines[resource.kind];
      const current = resource.stored === undefined ? undefined : await engine.refresh(resource.stored);
      let stored = current === undefined ? await engine.create(args) : await engine.up(current, args);
      resource.stored = stored;
      resource.pending = false;
      const again = await engine.refresh(stored);
      if (again === undefined) throw new Error("refresh says it is gone");
      stored = again;
      resource.stored = stored;
      const drift = stored.state["drift"];
      const preview = await engine.preview(stored, args);
      if (preview.changes !== "none")
        run.tally.outOfSync.push(
          `${resource.name}: drift ${JSON.stringify(drift)}, preview ${preview.changes}`,
        );
    } catch (error) {
      // With --same-disk, all but one claimant of a disk are refused by design: not out of sync.
      if (/belongs to PassthroughDisk .*: a disk can belong to one resource only/.test(messageOf(error))) {
        run.tally.refusedClaimants.push(`${resource.name}: ${messageOf(error)}`);
        continue;
      }
      run.tally.outOfSync.push(`${resource.name}: ${messageOf(error)}`);
    }
  }
  const breaks = await invariantBreaks(run);
  run.tally.invariantBreaks.push(...breaks.map((b) => `after the final converge: ${b}`));
  for (const resource of run.resources) {
    if (resource.stored === undefined) continue;
    await run.engines[resource.kind].destroy(resource.stored).catch((error: unknown) => {
      run.tally.outOfSync.push(`${resource.name}: destroy failed: ${messageOf(error)}`);
    });
  }
}

function messageOf(error: unknown): string {
  if (error instanceof HostCallError) return error.details;
  return error instanceof Error ? error.message : String(error);
}

async function until(ready: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await ready())) await new Promise((resolve) => setTimeout(resolve, 5));
}
