// One start-up sample inside the real dynamic-provider host, the process `pulumi up` starts: a
// fresh host is started and configured (its own load of @pulumi/pulumi and gRPC, not ours), then
// driven over gRPC as the engine drives one operation of a new process. The figure is from the
// engine's first call of that operation to the provider's first byte to SSH (to the preview's
// end). By then the host has loaded Node's crypto, net, http2, tls and zlib, which ssh2 needs too;
// a bare process loads them on ssh2's account, which is why this figure is the one a user waits for.
import { startDynamicHost, type DynamicHost } from "xen-sandbox";

type Props = Record<string, unknown>;

/** Wall-clock ms, as the SSH stand-in stamps its first byte. */
const now = (): number => performance.timeOrigin + performance.now();

export const OPERATIONS = ["preview", "create", "read", "update", "delete"] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The calls of one operation, in the engine's order (`pulumi up` checks before it creates or updates). */
const ENGINE_CALLS: Record<Operation, (host: DynamicHost, props: Props) => Promise<unknown>> = {
  preview: async (host, props) => {
    const { inputs } = await host.check({}, props);
    await host.diff("id", inputs, inputs);
  },
  create: async (host, props) => host.create((await host.check({}, props)).inputs),
  read: (host, props) => host.read("id", props),
  update: async (host, props) => host.update("id", props, (await host.check(props, props)).inputs),
  delete: (host, props) => host.delete("id", props),
};

export interface InHostSample {
  /** ms from spawning the host to its configured state: the host's own start, not ours. */
  readonly hostStart: number;
  /** ms from the engine's first call of the operation to the first SSH byte (to the preview's end). */
  readonly ours: number;
}

/**
 * Runs `operation` in a fresh host started in `programDir`; `props` point the SSH connection at the
 * stand-in whose first received byte `firstByte` reports (wall-clock ms).
 */
export async function sampleInHost(
  programDir: string,
  operation: Operation,
  props: Props,
  firstByte: () => number | undefined,
): Promise<InHostSample> {
  const spawnedAt = now();
  const host = await startDynamicHost({ cwd: programDir });
  try {
    await host.configure({});
    const calledAt = now();
    let settled: { at: number; error?: string } | undefined;
    ENGINE_CALLS[operation](host, props).then(
      () => (settled = { at: now() }),
      (error: unknown) =>
        (settled = { at: now(), error: error instanceof Error ? error.message : String(error) }),
    );
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && settled === undefined && firstByte() === undefined)
      await new Promise((resolve) => setTimeout(resolve, 1));
    if (operation === "preview") {
      if (settled?.error !== undefined) throw new Error(`preview failed in the host: ${settled.error}`);
      if (settled === undefined) throw new Error("preview did not end within 30 s");
      return { hostStart: calledAt - spawnedAt, ours: settled.at - calledAt };
    }
    const end = firstByte();
    if (end === undefined)
      throw new Error(
        `${operation} in the host sent no SSH byte` +
          (settled?.error === undefined ? "" : `: ${settled.error.split("\n")[0]}`),
      );
    return { hostStart: calledAt - spawnedAt, ours: end - calledAt };
  } finally {
    await host.stop();
  }
}
