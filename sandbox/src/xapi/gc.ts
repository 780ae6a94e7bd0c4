import type { Database } from "./database";
import { NULL_REF, asText } from "./values";

/** XAPI's database GC period (xen-api `db_gc.ml`, `db_GC_TIMER = 30.0` seconds). */
export const DEFAULT_GC_INTERVAL_MS = 30_000;

/** What one GC pass removed or changed. */
export interface GcReport {
  destroyedVbds: string[];
  /** CD VBDs of a live VM whose VDI is gone: kept, set empty. */
  emptiedVbds: string[];
  /** VDIs whose SR is gone. */
  destroyedVdis: string[];
}

/**
 * One pass of XAPI's database GC over the classes the simulator models (xen-api `db_gc_util.ml`,
 * `gc_VDIs` and `gc_VBDs`): a VDI whose SR is gone is destroyed; a VBD whose VM is gone, or whose
 * VDI is gone while it is not empty, is destroyed whatever `currently_attached` says, except a CD
 * of a live VM, which is kept and set empty.
 */
export function collectGarbage(db: Database): GcReport {
  const report: GcReport = { destroyedVbds: [], emptiedVbds: [], destroyedVdis: [] };
  for (const vdi of db.find("VDI", (record) => !db.has(asText(record["SR"]), "SR"))) {
    db.destroy(vdi);
    report.destroyedVdis.push(vdi);
  }
  for (const vbd of db.refs("VBD")) {
    const vmValid = db.has(db.str(vbd, "VM"), "VM");
    const vdiValid = db.has(db.str(vbd, "VDI"), "VDI") || db.bool(vbd, "empty");
    if (vmValid && vdiValid) continue;
    if (vmValid && db.str(vbd, "type") === "CD") {
      db.update(vbd, { VDI: NULL_REF, empty: true });
      report.emptiedVbds.push(vbd);
    } else {
      db.destroy(vbd);
      report.destroyedVbds.push(vbd);
    }
  }
  return report;
}

/**
 * Runs the GC on its own timer, as XAPI's master does (`start_db_gc_thread`: sleep, pass, repeat).
 * An interval of 0 means never by itself: only `runNow` (the control surface) collects.
 */
export class GcTimer {
  private timer: NodeJS.Timeout | undefined;

  private readonly unsubscribe: (() => void) | undefined;

  /** While the master's XAPI is down (a reboot), no pass runs. */
  private paused = false;

  /**
   * `immediately`: also collect right after every change (no window at all). Unlike real XAPI:
   * only for callers written before the simulator had the window (see XapiSimulatorOptions).
   */
  constructor(
    private readonly db: Database,
    private interval: number = DEFAULT_GC_INTERVAL_MS,
    immediately = false,
  ) {
    this.schedule();
    let collecting = false;
    this.unsubscribe = immediately
      ? db.onChange(() => {
          if (collecting || this.paused) return;
          collecting = true;
          try {
            collectGarbage(db);
          } finally {
            collecting = false;
          }
        })
      : undefined;
  }

  get intervalMs(): number {
    return this.interval;
  }

  set intervalMs(ms: number) {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`GC interval must be >= 0 ms, got ${ms}`);
    this.interval = ms;
    this.schedule();
  }

  runNow(): GcReport {
    return collectGarbage(this.db);
  }

  /** The master's XAPI stops: its GC thread stops with it. */
  pause(): void {
    this.paused = true;
    this.clearTimer();
  }

  /**
   * The master's XAPI starts: xen-api `ocaml/xapi/xapi.ml` `start_database_engine` runs one
   * `Db_gc.single_pass` before anything else, then `start_db_gc_thread` (the timer again).
   */
  startWithInitialPass(): GcReport {
    this.paused = false;
    const report = collectGarbage(this.db);
    this.schedule();
    return report;
  }

  stop(): void {
    this.unsubscribe?.();
    this.clearTimer();
  }

  private clearTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.clearTimer();
    if (this.interval === 0 || this.paused) return;
    this.timer = setInterval(() => collectGarbage(this.db), this.interval);
    // The GC alone never keeps a process alive.
    this.timer.unref();
  }
}
