// The chaos driver: one host sandbox (real sshd, udevd, loop disks; XAPI simulated), four
// PassthroughDisk resources on four disks over two VMs, driven through the real dynamic-provider
// host as `pulumi up` / `refresh` / `destroy` would, with faults, SSH cuts, provider kills and
// drift; the invariants are checked after every cycle and after a final clean converge.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  HostCallError,
  describePieces,
  listPieces,
  serializeResource,
  startCutProxy,
  startEngine,
  startSandbox,
} from "xen-sandbox";
import type { CutProxy, Engine, ExecFaults, Sandbox, Stored } from "xen-sandbox";
import { checkInvariants, type HeldResource } from "./invariants";
import { planCycle, type Cycle, type DriftKind, type PlannedFault } from "./plan";
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
  name: string;
  serial: string;
  disk: Record<string, string>;
  stored: Stored | undefined;
  /** A create failed or was killed without partial state: pieces may be on the host, the engine holds none. */
  pending: boolean;
  wanted: Pick<Cycle, "vm" | "mode">;
}

/** Everything a cycle needs; `engine` changes when the provider process is killed. */
interface Run {
  sandbox: Sandbox;
  proxy: CutProxy;
  execFaults: ExecFaults;
  engine: Engine;
  provider: string;
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
      ],
    },
  });
  const stops: (() => Promise<void>)[] = [() => sandbox.stop()];
  try {
    const proxy = await startCutProxy({ host: sandbox.ssh.host, port: sandbox.ssh.port });
    stops.unshift(() => proxy.stop());
    const free = sandbox.disks.filter((disk) => !disk.inUse);
    const resources: Resource[] = free.map((disk, index) => ({
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
    const { provider } = await serializeResource(
      {
        connection: { host: "127.0.0.1", privateKey: "p", hostKey: "ssh-ed25519 AAAA" },
        disk: { serial: "S" },
        vm: { nameLabel: "v" },
      },
      { packageName: "pulumi-xen-passthrough", cwd: REPO_ROOT },
    );
    const engine = await startEngine(provider, { cwd: REPO_ROOT });
    const execFaults = sandbox.execFaults;
    if (execFaults === undefined) throw new Error("the sandbox has no exec faults");
    const run: Run = { sandbox, proxy, execFaults, engine, provider, resources, tally, checksums: new Map() };
    stops.unshift(() => run.engine.host.stop());
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
    tally.leaks = describePieces(await listPieces(sandbox));
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    tally.elapsedMs = Date.now() - started;
  }
  return tally;
}

function describeCycle(run: Run, cycle: Cycle): string {
  const resource = run.resources[cycle.resource];
  const drift =
    cycle.drift === undefined
      ? ""
      : `drift ${cycle.drift.kind} on ${run.resources[cycle.drift.resource]?.name}, `;
  const fault = cycle.fault === undefined ? "" : ` with ${cycle.fault.kind}@${cycle.fault.at}`;
  return `${drift}${cycle.operation} ${resource?.name} (${cycle.vm}, ${cycle.mode})${fault}`;
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
  return {
    connection,
    disk: resource.disk,
    vm: { nameLabel: resource.wanted.vm },
    mode: resource.wanted.mode,
    // What the PassthroughDisk constructor adds for a real program: <project>/<stack>/<name>.
    owner: `chaos/run/${resource.name}`,
  };
}

async function runCycle(run: Run, cycle: Cycle): Promise<string> {
  const resource = run.resources[cycle.resource];
  if (resource === undefined) throw new Error(`no resource #${cycle.resource}`);
  if (cycle.drift !== undefined) {
    const target = run.resources[cycle.drift.resource];
    if (target !== undefined && (await drift(run, cycle.drift.kind, target)))
      count(run.tally.drifts, cycle.drift.kind);
  }
  count(run.tally.operations, cycle.operation);
  const armed = cycle.fault === undefined ? undefined : await arm(run, cycle.fault);
  let failure: unknown;
  try {
    await operate(run, resource, cycle);
  } catch (error) {
    failure = error;
  } finally {
    const { fired, killed } = (await armed?.disarm()) ?? { fired: false, killed: false };
    // Counted when it struck: a fault aimed past the operation's last call or session never does.
    if (fired && cycle.fault !== undefined) count(run.tally.faults, cycle.fault.kind);
    if (killed) run.engine = await startEngine(run.provider, { cwd: REPO_ROOT });
  }
  if (failure === undefined) return "ok";
  count(run.tally.failures, `${cycle.operation} after ${cycle.fault?.kind ?? "no fault"}`);
  return `failed: ${messageOf(failure).split("\n")[0]}`;
}

/** Carries out the operation, updating what the engine holds exactly as Pulumi would. */
async function operate(run: Run, resource: Resource, cycle: Cycle): Promise<void> {
  const { engine } = run;
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
        await run.engine.host.stop();
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
  const { ownershipBreaks, orphans } = checkInvariants(pieces, run.sandbox.describe().disks, held);
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
      const current = resource.stored === undefined ? undefined : await run.engine.refresh(resource.stored);
      let stored = current === undefined ? await run.engine.create(args) : await run.engine.up(current, args);
      resource.stored = stored;
      resource.pending = false;
      const again = await run.engine.refresh(stored);
      if (again === undefined) throw new Error("refresh says it is gone");
      stored = again;
      resource.stored = stored;
      const drift = stored.state["drift"];
      const preview = await run.engine.preview(stored, args);
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
    await run.engine.destroy(resource.stored).catch((error: unknown) => {
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
