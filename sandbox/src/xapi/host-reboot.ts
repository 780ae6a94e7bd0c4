import { setTimeout as sleep } from "node:timers/promises";

import { reconcileUdevSr } from "./classes/sr";
import { udevSrView } from "./classes/udev-vdi";
import { isUdevSr } from "./classes/vdi";
import { scanHostUsb } from "./classes/usb-scan";
import { haltVm } from "./classes/vm";
import type { GcReport } from "./gc";
import { autoStartCandidates } from "./autostart";
import { poolHost } from "./world";
import type { World } from "./world";

/** What a reboot is asked to do: kernel names some disks come back under (by serial). */
export interface RebootOptions {
  kernelNames?: Record<string, string>;
  /**
   * Keeps the host's XAPI down at least this long (ms, counted from its power-off). Our choice, a
   * control for tests: a real host's firmware and boot take minutes, ours take seconds, and a
   * test of what the pool does while its master is down needs that window to last.
   */
  downMs?: number;
}

/** One dom0 boot unit that ran between xapi-init-complete.target and xapi-domains.service. */
export interface BootUnitRun {
  unit: string;
  exitCode: number;
  /** stdout then stderr. */
  output: string;
}

/** One VM xapi-autostart-vms tried to start. */
export interface AutoStartResult {
  /** The VM's uuid. */
  vm: string;
  started: boolean;
  /** The XAPI failure, "CODE [param, ...]", when it did not start. */
  error?: string;
}

/** What happened during a reboot, step by step. */
export interface RebootReport {
  /** Every disk's kernel name after the reboot, by serial. */
  kernelNames: Record<string, string>;
  bootUnits: BootUnitRun[];
  autoStart: AutoStartResult[];
  /** Addition to the contract: the uuids of the VMs that were running on the host and halted. */
  haltedVms: string[];
  /** Addition to the contract: the initial GC pass at XAPI's start (the master only). */
  initialGc: GcReport | undefined;
}

/** The dom0 side of a reboot (a sandbox's disks, /dev, udev and systemd units). */
export interface Dom0BootHooks {
  /** Refuses bad options (unknown serials, names taken) before anything changes. */
  check(options: RebootOptions): Promise<void>;
  /** Between XAPI stopping and starting: disks detach and re-attach, /dev refills by coldplug. */
  whileXapiDown(options: RebootOptions): Promise<Record<string, string>>;
  /** After XAPI's init is complete and before xapi-domains: the enabled boot units. */
  afterInitComplete(): Promise<BootUnitRun[]>;
}

/** What a reboot needs from the simulator around the database. */
export interface RebootDeps {
  world: World;
  gc: { pause(): void; startWithInitialPass(): GcReport };
  /** VM.start through the dispatcher, as xe on `host` would call it: undefined or the failure. */
  startVm(vm: string, host: string): Promise<string | undefined>;
  /** Resets every open connection to the host's XAPI (its process is gone). */
  dropConnections(host: string): void;
}

function hostPbds(world: World, host: string): string[] {
  return world.db.find("PBD", (pbd) => pbd["host"] === host);
}

/**
 * Storage init at XAPI's start re-plugs the host's PBDs (xen-api `ocaml/xapi/xapi.ml`), a local
 * SR with `SRmaster=true` (`helpers.ml` `get_srmaster`). sm's `SRCommand.py` `sr_attach` then marks
 * the SR dirty and calls `after_master_attach`, whose default (`SR.py`, sm 2.30.8 to master) is
 * `self.scan`; udevSR does not override it: the udev SR is scanned at every boot. (The dirty mark
 * also makes the master's scan thread scan it again within ~30 s: not modelled, the boot scan has
 * already done the same.) The simulated backends have nothing else to attach.
 */
async function plugAtStart(world: World, host: string): Promise<void> {
  const { db } = world;
  for (const pbd of hostPbds(world, host)) {
    db.update(pbd, { currently_attached: true });
    const sr = db.str(pbd, "SR");
    if (db.has(sr, "SR") && isUdevSr(db, sr)) reconcileUdevSr(db, sr, (await udevSrView(world, sr)) ?? []);
  }
}

/**
 * The master is back: each member in emergency mode restarts its XAPI, which now reaches the
 * master and runs its storage init. Choice: at once; a real member waits for its restart timer,
 * 60 s plus up to 120 s (xapi_globs.ml emergency_reboot_delay_base and _extra).
 */
async function leaveEmergencyModes(world: World): Promise<void> {
  for (const member of [...world.emergency]) {
    world.emergency.delete(member);
    await plugAtStart(world, member);
  }
}

/**
 * Reboots pool host `host`, in a real host's order (docs/host.md "Host reboots and symlink names"):
 * 1. the VMs resident on it halt (their domains die with the host; xapi's resync at start shows
 *    them Halted: done first here, our choice) and its XAPI stops answering;
 * 2. dom0 (hooks): disks detach, /dev empties, disks re-attach, udev coldplug while XAPI is down;
 * 3. XAPI starts: on the master, no session survives (sessions are not persisted), the initial
 *    `Db_gc.single_pass` (xen-api `ocaml/xapi/xapi.ml` `start_database_engine`), then the GC
 *    timer; storage init plugs the host's PBDs (see plugAtStart): the udev SR is scanned, so a
 *    VDI whose location is gone is forgotten (its VBDs stay, with a dead VDI ref, until the next
 *    GC pass) and a new name gets a new VDI;
 * 4. init complete (xapi-init-complete.target): the enabled boot units (hooks);
 * 5. xapi-domains.service: xapi-autostart-vms (see autoStartCandidates).
 */
export async function rebootHost(
  deps: RebootDeps,
  host: string,
  hooks: Dom0BootHooks | undefined,
  options: RebootOptions,
): Promise<RebootReport> {
  const { world } = deps;
  const { db } = world;
  if (hooks === undefined && Object.keys(options.kernelNames ?? {}).length > 0)
    throw new RangeError("kernelNames needs a dom0 sandbox: this host's devices are in memory");
  const { downMs = 0 } = options;
  if (!Number.isFinite(downMs) || downMs < 0) throw new RangeError(`downMs must be >= 0, got ${downMs}`);
  await hooks?.check(options);
  const isMaster = host === world.host;

  const residents = db.find(
    "VM",
    (vm) => vm["resident_on"] === host && vm["is_control_domain"] !== true && vm["power_state"] !== "Halted",
  );
  for (const vm of residents) haltVm(db, vm);
  const haltedVms = residents.map((vm) => db.str(vm, "uuid"));
  world.down.add(host);
  const poweredOffAt = Date.now();
  // The host's open connections (event.from long polls among them) are reset. A member's XAPI
  // keeps running while its master reboots: its calls wait for the master (see the dispatcher).
  deps.dropConnections(host);
  if (isMaster) deps.gc.pause();
  // Choice: the PBDs show unplugged while the host is down (only other hosts' clients can look).
  for (const pbd of hostPbds(world, host)) db.update(pbd, { currently_attached: false });

  let kernelNames: Record<string, string> = {};
  let initialGc: GcReport | undefined;
  try {
    kernelNames = hooks === undefined ? {} : await hooks.whileXapiDown(options);
    const left = poweredOffAt + downMs - Date.now();
    if (left > 0) await sleep(left);
  } finally {
    // The session class is PersistNothing (xen-api ocaml/idl/datamodel.ml): the master's XAPI
    // starts with no session, every session ref held before answers SESSION_INVALID.
    if (isMaster) for (const session of db.refs("session")) db.destroy(session);
    initialGc = isMaster ? deps.gc.startWithInitialPass() : undefined;
    // A member that cannot reach its master at start runs in emergency mode and skips its
    // storage init (xen-api ocaml/xapi/xapi.ml server_run_in_emergency_mode).
    const emergency = !isMaster && world.down.has(world.host);
    try {
      if (emergency) world.emergency.add(host);
      else {
        await plugAtStart(world, host);
        // xapi.ml start-up: the "PUSB scanning" thread scans once, so a stick unplugged or moved
        // while the host was down loses its PUSB (and the VUSB on it) before any VM starts.
        scanHostUsb(db, host, poolHost(world, host).usbDevices);
      }
    } finally {
      world.down.delete(host);
    }
    if (isMaster) await leaveEmergencyModes(world);
  }

  const bootUnits = hooks === undefined ? [] : await hooks.afterInitComplete();
  const autoStart: AutoStartResult[] = [];
  for (const vm of autoStartCandidates(world)) {
    const uuid = db.str(vm, "uuid");
    const error = await deps.startVm(vm, host);
    autoStart.push(error === undefined ? { vm: uuid, started: true } : { vm: uuid, started: false, error });
  }
  return { kernelNames, bootUnits, autoStart, haltedVms, initialGc };
}
