import type { XapiSimulator, XapiSimulatorOptions } from "../xapi";
import { DEFAULT_SM_VERSION, checkSmVersion, startXapiSimulator } from "../xapi";
import type { SandboxDescription } from "./description";
import { PASSWORD_TOOLS, TOOLS, assertPrerequisites } from "./prerequisites";
import type { PreparedDom0, Sandbox } from "./sandbox";
import { finishDom0, prepareDom0 } from "./sandbox";
import { reapStaleSandboxes } from "./stale";
import { Teardown } from "./teardown";

export interface PoolOptions {
  /** Hosts in the pool, master first. Default 3. */
  hosts?: number;
  /**
   * Free loop disks per host (each host also has its in-use boot disk): one number for every
   * host, or one per host. Default 4 on every host but the last of a pool of 3 or more, which
   * has none: two hosts with disks and one without, the shape the pool tests need.
   */
  disks?: number | readonly number[];
  /** Also allow SSH password login for root on every host. */
  passwordLogin?: boolean;
  profile?: XapiSimulatorOptions["profile"];
  /** The pool's guests; `host` / `affinity` are host indexes (master = 0). */
  model?: XapiSimulatorOptions["model"];
  /**
   * Each host's storage manager version (see SandboxOptions.smVersion): one for every host, or
   * one per host (a pool mid-upgrade). Default "3.2.3".
   */
  smVersion?: string | readonly string[];
}

/** One host of a running pool: a sandbox whose XAPI is the pool's; `stop()` stops the whole pool. */
export interface PoolHostSandbox extends Sandbox {
  readonly isMaster: boolean;
}

/** A running pool: every host's dom0, and the one simulator (database) behind them. */
export interface SandboxPool {
  readonly simulator: XapiSimulator;
  /** Every host, master first. */
  readonly hosts: readonly PoolHostSandbox[];
  readonly master: PoolHostSandbox;
  /** The JSON-safe description (the CLI's line). */
  describe(): PoolDescription;
  /** Removes everything every host made, then stops the simulator. */
  stop(): Promise<void>;
}

export interface PoolDescription {
  /** The master's host uuid. */
  master: string;
  hosts: Array<SandboxDescription & { isMaster: boolean }>;
  controlUrl: string;
}

/** Pure: the disks of each host, from the option (see PoolOptions.disks). */
export function disksPerHost(hosts: number, disks: PoolOptions["disks"]): number[] {
  if (typeof disks === "number") return Array.from({ length: hosts }, () => disks);
  if (disks !== undefined) {
    if (disks.length !== hosts) throw new Error(`disks lists ${disks.length} hosts, the pool has ${hosts}`);
    return disks.slice();
  }
  return Array.from({ length: hosts }, (_, index) => (hosts >= 3 && index === hosts - 1 ? 0 : 4));
}

/** Pure: the sm version of each host, from the option (see PoolOptions.smVersion). */
export function smVersionsPerHost(hosts: number, smVersion: PoolOptions["smVersion"]): string[] {
  if (smVersion === undefined || typeof smVersion === "string")
    return Array.from({ length: hosts }, () => checkSmVersion(smVersion ?? DEFAULT_SM_VERSION));
  if (smVersion.length !== hosts)
    throw new Error(`smVersion lists ${smVersion.length} hosts, the pool has ${hosts}`);
  return smVersion.map(checkSmVersion);
}

/**
 * Starts a simulated pool: one XAPI simulator (one database) and one dom0 sandbox per host, each
 * in its own mount namespace with its own udevd, sshd, loop disks, /dev/xapi/block, inventory and
 * XAPI Unix socket. Needs root on Linux. A start that fails half-way removes what it had made.
 *
 * @example
 * const pool = await startPool({ hosts: 3 });
 * try { console.log(pool.describe()); } finally { await pool.stop(); }
 */
export async function startPool(options: PoolOptions = {}): Promise<SandboxPool> {
  const count = options.hosts ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 16)
    throw new Error(`hosts must be a whole number from 1 to 16 (got ${count})`);
  const disks = disksPerHost(count, options.disks);
  const smVersions = smVersionsPerHost(count, options.smVersion);
  const passwordLogin = options.passwordLogin ?? false;
  assertPrerequisites(passwordLogin ? [...TOOLS, ...PASSWORD_TOOLS] : TOOLS);
  await reapStaleSandboxes();
  // The simulator stops last: one teardown per host, run before the pool's own.
  const poolTeardown = new Teardown();
  const hostTeardowns = disks.map(() => new Teardown());
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      const results = await Promise.allSettled(hostTeardowns.map((teardown) => teardown.run()));
      await poolTeardown.run();
      const failures = results.flatMap((result) =>
        result.status === "rejected" ? [result.reason as unknown] : [],
      );
      if (failures.length > 0) throw new AggregateError(failures, "the pool did not stop cleanly");
    })());
  try {
    const dom0s: PreparedDom0[] = await Promise.all(
      disks.map((count, index) =>
        prepareDom0(
          count,
          `xen-sandbox-${index + 1}`,
          hostTeardowns[index] as Teardown,
          smVersions[index] ?? DEFAULT_SM_VERSION,
        ),
      ),
    );
    const [master, ...members] = dom0s as [PreparedDom0, ...PreparedDom0[]];
    const simulator = await startXapiSimulator({
      hostUuid: master.hostUuid,
      hostNameLabel: master.hostNameLabel,
      devices: master.devices,
      smVersion: master.smVersion,
      members: members.map((member) => ({
        hostUuid: member.hostUuid,
        hostNameLabel: member.hostNameLabel,
        devices: member.devices,
        smVersion: member.smVersion,
      })),
      ...(options.profile === undefined ? {} : { profile: options.profile }),
      ...(options.model === undefined ? {} : { model: options.model }),
    });
    poolTeardown.defer("stop XAPI simulator", () => simulator.stop());
    const hosts = await Promise.all(
      dom0s.map(async (dom0, index) => {
        const sandbox = await finishDom0(
          dom0,
          simulator,
          { passwordLogin, execFaults: false },
          hostTeardowns[index] as Teardown,
          stopAll,
        );
        return Object.assign(sandbox, { isMaster: index === 0 });
      }),
    );
    return {
      simulator,
      hosts,
      master: hosts[0] as PoolHostSandbox,
      describe: () => ({
        master: master.hostUuid,
        hosts: hosts.map((host) => ({ ...host.describe(), isMaster: host.isMaster })),
        controlUrl: simulator.controlUrl,
      }),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch((rollbackError: unknown) => {
      throw new AggregateError([error, rollbackError], `pool start failed and so did its rollback`);
    });
    throw error;
  }
}
