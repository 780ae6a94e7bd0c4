/**
 * Our provider, one scenario at a time, the way `pulumi up` / `refresh` / `preview` /
 * `destroy` drives it: a fresh provider host process per command, every resource's calls sent
 * at once (the engine runs independent resources in parallel).
 */
import type { Operation } from "./floor";
import type { BenchHost } from "./hosts";
import { vmName } from "./layouts";
import { peakRssKiB, startProviderHost, type ProviderHost } from "./provider-host";

type Props = Record<string, unknown>;

/** One disk of a layout, placed on a host and a VM. */
export interface PlacedDisk {
  readonly host: BenchHost;
  readonly vm: number;
  readonly serial: string;
  readonly byId: string;
}

export interface Stored {
  readonly id: string;
  readonly state: Props;
}

export interface OursResult {
  readonly wallMs: number;
  readonly peakRssKiB: number;
  /** The resources' state after the command (undefined after delete). */
  readonly stored: readonly Stored[] | undefined;
}

function args(disk: PlacedDisk, provider: string, mode: "RW" | "RO"): Props {
  const { host, port, user, privateKey, hostKey } = disk.host.ssh;
  return {
    connection: { host, port, user, privateKey, hostKey },
    disk: { serial: disk.serial },
    vm: { nameLabel: vmName(disk.vm) },
    mode,
    __provider: provider,
  };
}

async function checked(host: ProviderHost, olds: Props, news: Props): Promise<Props> {
  const { inputs, failures } = await host.check(olds, news);
  if (failures.length > 0) {
    throw new Error(`check failed: ${failures.map((f) => `${f.property} ${f.reason}`).join("; ")}`);
  }
  return inputs;
}

/** What each operation does for one resource; `mode` is the mode the command asks for. */
const STEPS: Record<
  Operation,
  (host: ProviderHost, news: Props, stored: Stored | undefined) => Promise<Stored | undefined>
> = {
  create: async (host, news) => {
    const { id, properties } = await host.create(await checked(host, {}, news));
    return { id, state: properties };
  },
  preview: async (host, news, stored) => {
    const old = required(stored);
    const diff = await host.diff(old.id, old.state, await checked(host, old.state, news));
    if (diff.changes !== "none")
      throw new Error(`preview expected no change, the provider said ${diff.changes}`);
    return old;
  },
  refresh: async (host, _news, stored) => {
    const old = required(stored);
    const { id, properties } = await host.read(old.id, old.state);
    if (id === "") throw new Error(`refresh lost resource ${old.id}`);
    return { id, state: properties };
  },
  update: async (host, news, stored) => {
    const old = required(stored);
    const inputs = await checked(host, old.state, news);
    const diff = await host.diff(old.id, old.state, inputs);
    if (diff.changes !== "some" || diff.replaces.length > 0) {
      throw new Error(
        `update expected an in-place change, the provider said ${diff.changes} ${diff.replaces.join(",")}`,
      );
    }
    const { properties } = await host.update(old.id, old.state, inputs);
    return { id: old.id, state: properties };
  },
  delete: async (host, _news, stored) => {
    const old = required(stored);
    await host.delete(old.id, old.state);
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
  const { host, pid } = await startProviderHost();
  try {
    const started = performance.now();
    const after = await Promise.all(
      disks.map((disk, index) => STEPS[operation](host, args(disk, provider, mode), before?.[index])),
    );
    const wallMs = performance.now() - started;
    const stored = operation === "delete" ? undefined : after.map(required);
    return { wallMs, peakRssKiB: peakRssKiB(pid), stored };
  } finally {
    await host.stop();
  }
}
