/**
 * A TCP proxy on 127.0.0.1 that cuts connections on command: a stand-in for a link that dies
 * (Wi-Fi dropping, a cable pulled). `cutNow()` destroys every open connection at once (both
 * sides see the close); `cutNextHandshake()` lets the next connection exchange its first bytes
 * and cuts it a moment into the SSH key exchange (after the server's version line and KEXINIT).
 *
 * @example
 * const proxy = await startCutProxy({ host: "127.0.0.1", port: sshPort });
 * proxy.cutNextHandshake(); // the next dial through 127.0.0.1:proxy.port dies in key exchange
 */
import { createConnection, createServer, type Socket } from "node:net";
import { listenOnLoopback } from "./loopback-listen";

export interface CutProxy {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Connections cut so far (by either order). */
  cuts(): number;
  /** Destroys every open connection; later connections pass. Returns how many were cut. */
  cutNow(): number;
  /** Cuts the next connection when the server sends its `serverChunks`th chunk (not forwarded; default 2). */
  cutNextHandshake(serverChunks?: number): void;
  /** Withdraws a handshake cut no connection has taken yet. */
  cancelHandshakeCut(): void;
  stop(): Promise<void>;
}

export async function startCutProxy(target: { host: string; port: number }): Promise<CutProxy> {
  const open = new Set<Socket>();
  const pairs = new Set<() => void>();
  let accepted = 0;
  let cut = 0;
  let handshakeOrder: number | undefined;
  let stopping = false;
  const server = createServer((client) => {
    if (stopping) {
      client.destroy();
      return;
    }
    accepted += 1;
    const upstream = createConnection({ host: target.host, port: target.port });
    const destroy = (): void => {
      client.destroy();
      upstream.destroy();
    };
    pairs.add(destroy);
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      open.add(socket);
      socket.once("close", () => {
        open.delete(socket);
        pairs.delete(destroy);
      });
      socket.on("error", destroy);
    }
    const cutAfter = handshakeOrder;
    handshakeOrder = undefined;
    let fromServer = 0;
    upstream.on("data", (chunk: Buffer) => {
      fromServer += 1;
      if (cutAfter !== undefined && fromServer >= cutAfter) {
        // The link dies: the client sees its peer close (FIN), nothing more of the handshake.
        cut += 1;
        upstream.destroy();
        client.end();
        return;
      }
      client.write(chunk);
    });
    client.on("data", (chunk: Buffer) => upstream.write(chunk));
    upstream.once("end", () => client.end());
    client.once("end", () => upstream.end());
  });
  const port = await listenOnLoopback(server, "cut proxy");
  return {
    port,
    connections: () => accepted,
    cuts: () => cut,
    cutNow() {
      const live = [...pairs];
      for (const destroy of live) destroy();
      cut += live.length;
      return live.length;
    },
    cutNextHandshake(serverChunks = 2) {
      handshakeOrder = serverChunks;
    },
    cancelHandshakeCut() {
      handshakeOrder = undefined;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
