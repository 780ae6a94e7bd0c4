/**
 * A TCP proxy on 127.0.0.1 that delays every chunk by a fixed one-way time in each direction,
 * keeping the order: a stand-in for network latency (this kernel has no netem). Each direction
 * is a FIFO of timed chunks, so a late chunk can never overtake an earlier one.
 *
 * @example
 * const proxy = await startLatencyProxy({ target: { host: "127.0.0.1", port: 22 }, oneWayDelayMs: 1 });
 * // connect to 127.0.0.1:proxy.port instead of port 22
 * await proxy.stop();
 */
import { createConnection, createServer, type Socket } from "node:net";
import { listenOnLoopback } from "./loopback-listen";

export interface LatencyProxyOptions {
  /** Where each accepted connection is forwarded to. */
  target: { host: string; port: number };
  /** Added to every chunk, in each direction (a round trip costs twice this). */
  oneWayDelayMs: number;
}

export interface LatencyProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /**
   * When each accepted connection's client sent its first byte (`performance.now()` of this
   * process, on arrival, before the delay), in the order the bytes came: how long a client took
   * from its own start to its first byte on the wire.
   */
  firstClientBytes(): readonly number[];
  /** Stops listening and closes every open connection. */
  stop(): Promise<void>;
}

export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  const { oneWayDelayMs, target } = options;
  if (!Number.isFinite(oneWayDelayMs) || oneWayDelayMs < 0) {
    throw new RangeError(`oneWayDelayMs must be a finite number >= 0, got ${oneWayDelayMs}`);
  }
  const open = new Set<Socket>();
  let accepted = 0;
  const firstBytes: number[] = [];
  let stopping = false;
  const server = createServer({ allowHalfOpen: true }, (client) => {
    // A connection the kernel accepted just before stop() would otherwise keep close() waiting.
    if (stopping) {
      client.destroy();
      return;
    }
    accepted += 1;
    const upstream = createConnection({ host: target.host, port: target.port, allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      // A wire does not hold small packets back: Nagle's algorithm stays with the endpoints.
      socket.setNoDelay(true);
      open.add(socket);
      socket.once("close", () => open.delete(socket));
      // A reset on one side closes the other; the error itself needs no report.
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.once("data", () => firstBytes.push(performance.now()));
    pipeDelayed(client, upstream, oneWayDelayMs);
    pipeDelayed(upstream, client, oneWayDelayMs);
  });
  const port = await listenOnLoopback(server, "latency proxy");
  return {
    port,
    connections: () => accepted,
    firstClientBytes: () => [...firstBytes],
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Forwards `from` to `to`, each chunk (and the end) `delayMs` later than it arrived, in order. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  const queue: { due: number; chunk: Buffer | "end" }[] = [];
  let timer: NodeJS.Timeout | undefined;

  const flush = (): void => {
    timer = undefined;
    if (to.destroyed) {
      queue.length = 0;
      return;
    }
    const now = Date.now();
    while (queue.length > 0 && (queue[0]?.due ?? Infinity) <= now) {
      const item = queue.shift();
      if (item === undefined) break;
      if (item.chunk === "end") to.end();
      else to.write(item.chunk);
    }
    schedule();
  };
  const schedule = (): void => {
    const next = queue[0];
    if (timer !== undefined || next === undefined) return;
    timer = setTimeout(flush, Math.max(0, next.due - Date.now()));
  };
  const enqueue = (chunk: Buffer | "end"): void => {
    queue.push({ due: Date.now() + delayMs, chunk });
    schedule();
  };

  from.on("data", (chunk: Buffer) => enqueue(chunk));
  from.once("end", () => enqueue("end"));
}
