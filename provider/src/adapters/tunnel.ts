import { createServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { toError } from "../core/error-base.js";

export interface LocalTunnel {
  /** "http://127.0.0.1:<port>": what an HTTP client should be pointed at. */
  readonly url: string;
  /** Why the last `open()` failed (TLS fingerprint mismatch, SSH channel refused...) and when. */
  readonly lastOpenError: { error: Error; at: number } | undefined;
  close(): Promise<void>;
}

/**
 * A TCP listener on 127.0.0.1 that pipes each accepted connection into a freshly opened Duplex
 * (an SSH stream-local channel, a verified TLS socket). HTTP clients that build their own
 * agent (xen-api) can thus reach what only we know how to open. Its handles do not keep the
 * process alive: whoever uses the tunnel does.
 *
 * @example
 * const tunnel = await openLocalTunnel(() => remote.openUnixStream("/var/lib/xcp/xapi"));
 * await fetch(`${tunnel.url}/jsonrpc`, ...);
 */
export async function openLocalTunnel(open: () => Promise<Duplex>): Promise<LocalTunnel> {
  const sockets = new Set<Socket>();
  const streams = new Set<Duplex>();
  let lastOpenError: { error: Error; at: number } | undefined;
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
    socket.unref();
    // Replies of concurrent calls are small writes: Nagle would hold each behind a delayed ACK (40 ms).
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    open().then(
      (stream) => {
        streams.add(stream);
        stream.once("close", () => streams.delete(stream));
        if (socket.destroyed) {
          stream.destroy();
          return;
        }
        stream.on("error", () => socket.destroy());
        socket.once("close", () => stream.destroy());
        stream.once("close", () => socket.destroy());
        socket.pipe(stream).pipe(socket);
        socket.resume();
      },
      (error: unknown) => {
        lastOpenError = { error: toError(error), at: Date.now() };
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get lastOpenError() {
      return lastOpenError;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        for (const stream of streams) stream.destroy();
        server.close(() => resolve());
      }),
  };
}
