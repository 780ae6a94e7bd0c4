/**
 * Our provider, one scenario at a time, the way `pulumi up` / `refresh` / `preview` /
 * `destroy` drives it: a fresh provider host process per command, every resource's calls sent
 * at once (the engine runs independent resources in parallel).
 */
import type { Engine, Stored } from "xen-sandbox";
import type { Operation } from "./floor";
import type { BenchHost } from "./hosts";
import { peakRssKiB, startProviderEngine } from "./provider-host";

type Props = Record<string, unknown>;

/** One disk of a layout, placed on a host and a VM. */
export interface PlacedDisk {
  readonly host: BenchHost;
  readonly vm: number;
  readonly serial: string;
  readonly byId: string;
}

export type { Stored } from "xen-sandbox";

export interface OursResult {
  readonly wallMs: number;
  /** performance.now() just before the provider process was started. */
  readonly spawnedAt: number;
  /** performance.now() once it was started and configured: the first call goes out then. */
  readonly readyAt: number;
  readonly peakRssKiB: number;
  /** The resources' state after the command (undefined after delete). */
  readonly stored: readonly Stored[] | undefined;
}

function args(disk: PlacedDisk, mode: "RW" | "RO"): Props {
  const { host, port, user, privateKey, hostKey } = disk.host.ssh;
  return {
    connection: { host, port, user, privateKey, hostKey },
    disk: { serial: disk.serial },
    vm: { nameLabel: vmNameOf(disk) },
    mode,
  };
}

function vmNameOf(disk: PlacedDisk): string {
  const name = disk.host.vmNames[disk.vm];
  if (name === undefined) throw new Error(`host ${disk.host.index + 1} has no VM #${disk.vm + 1}`);
  return name;
}

/** What each command does for one resource, with the checks that it did what the scenario means. */
const STEPS: Record<
  Operation,
  (engine: Engine, args: Props, stored: Stored | undefined) => Promise<Stored | undefined>
> = {
  create: (engine, args) => engine.create(args),
  preview: async (engine, args, stored) => {
    const diff = await engine.preview(required(stored), args);
    if (diff.changes !== "none")
      throw new Error(`preview expected no change, the provider said ${diff.changes}`);
    return stored;
  },
  refresh: async (engine, _args, stored) => {
    const refreshed = await engine.refresh(required(stored));
    if (refreshed === undefined) throw new Error(`refresh lost resource ${required(stored).id}`);
    return refreshed;
  },
  update: async (engine, args, stored) => {
    const result = await engine.upWithPlan(required(stored), args);
    if (result.operation !== "update") {
      throw new Error(`update expected an in-place Update, the engine ran "${result.operation}"`);
    }
    return result.stored;
  },
  delete: async (engine, _args, stored) => {
    await engine.destroy(required(stored));
    return undefined;
  },
};

function required(stored: Stored | undefined): Stored {
  if (stored === undefined) throw new Error("internal error: a scenario ran before create");
  return stored;
}

/** Runs one command over all disks in a fresh provider host; times it from first call to last reply. */
export async function runOurs(
  operation: Operation,
  disks: readonly PlacedDisk[],
  provider: string,
  mode: "RW" | "RO",
  before: readonly Stored[] | undefined,
): Promise<OursResult> {
  const { engine, pid, spawnedAt } = await startProviderEngine(provider);
  try {
    const readyAt = performance.now();
    const after = await Promise.all(
      disks.map((disk, index) => STEPS[operation](engine, args(disk, mode), before?.[index])),
    );
    const wallMs = performance.now() - readyAt;
    const stored = operation === "delete" ? undefined : after.map(required);
    return { wallMs, spawnedAt, readyAt, peakRssKiB: peakRssKiB(pid), stored };
  } finally {
    await engine.host.stop();
  }
}
