// A controllable SSH peer on 127.0.0.1 for the bounded-wait tests: a real SSH server (ssh2's)
// behind a TCP front we control, so the connection can be closed, stalled (half-open: nothing
// forwarded either way, nothing closed) or left silent at each stage of the protocol.
import { connect, createServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { Server as SshServer, utils } from "ssh2";
import type { ServerChannel } from "ssh2";
import type { Remote } from "#provider/dom0/remote.js";

/** What the front does with a new TCP connection. */
export type FrontMode =
  /** Forward it to the SSH server. */
  | "pass"
  /** Accept it and never send a byte. */
  | "silent"
  /** Send the SSH identification, then close as soon as the client's key exchange starts. */
  | "close-in-kex"
  /** Send the SSH identification, then ignore everything (half-open during the key exchange). */
  | "stall-in-kex";

/** What the SSH server does, once the client is authenticated. */
export interface ServerBehaviour {
  /** A session channel: "ignore" never answers the open request. */
  session: "accept" | "ignore";
  /**
   * A command: "run" answers "ok" and exits 0; "dom0" runs the framed script on `dom0`;
   * "silent" never answers; "close"/"stall" cut the connection.
   */
  exec: "run" | "dom0" | "silent" | "close" | "stall";
  /** A stream to a Unix socket: "pipe" connects it to `unixTarget`; the others as for exec. */
  stream: "pipe" | "silent" | "close" | "stall";
}

export interface SshPeer {
  readonly port: number;
  /** The server's public key, to pin. */
  readonly hostKey: string;
  /** TCP connections accepted by the front so far. */
  readonly connections: number;
  front: FrontMode;
  readonly behaviour: ServerBehaviour;
  /** Where "pipe" streams go (the XAPI simulator's Unix socket). */
  unixTarget: string | undefined;
  /** What runs the scripts of exec "dom0" (the fake dom0). */
  dom0: Remote | undefined;
  /** Closes every open connection at the front (the client sees the TCP connection end). */
  closeAll(): void;
  /** Every open connection becomes half-open: nothing is forwarded any more, nothing is closed. */
  stallAll(): void;
  /** Piped streams stop answering; the SSH connection under them stays up and responsive. */
  silenceStreams(): void;
  stop(): Promise<void>;
}

const IDENT = "SSH-2.0-OpenSSH_9.6\r\n";

/**
 * A throw-away ed25519 host key that ssh2 can read back. ssh2's generator strips leading zero
 * bytes from the public key, so about one key in 256 comes out malformed (mscdex/ssh2#1390,
 * #1513); it failed a CI run. Draw again until the key parses.
 */
function hostKeyPair(): { private: string; public: string } {
  for (;;) {
    const keys = utils.generateKeyPairSync("ed25519");
    const readable = [keys.private, keys.public].every((key) => !(utils.parseKey(key) instanceof Error));
    if (readable) return keys;
  }
}

export async function startSshPeer(): Promise<SshPeer> {
  const keys = hostKeyPair();
  const open = new Set<{ client: Socket; upstream?: Socket }>();
  const held: Socket[] = [];
  const pipes: { channel: ServerChannel; target: Socket }[] = [];
  let connections = 0;

  const ssh = new SshServer({ hostKeys: [keys.private] }, (client) => {
    client.on("error", () => undefined);
    client.on("authentication", (ctx) => ctx.accept());
    client.on("ready", () => {
      client.on("session", (accept) => {
        if (peer.behaviour.session === "ignore") return;
        const session = accept();
        session.on("exec", (acceptExec) => {
          const how = peer.behaviour.exec;
          const channel = acceptExec();
          if (how === "dom0") {
            const input: Buffer[] = [];
            channel.on("data", (chunk: Buffer) => input.push(chunk));
            // The client ends stdin once the framed script is written (adapters/remote-script.ts).
            channel.once("end", () => void runOnDom0(channel, Buffer.concat(input)));
            return;
          }
          // The client sends the script on stdin once it knows the command started: misbehave then.
          channel.once("data", () => misbehave(channel, how));
        });
      });
      client.on("openssh.streamlocal", (accept) => {
        const channel = accept();
        if (peer.behaviour.stream === "pipe" && peer.unixTarget !== undefined) {
          const target = connect(peer.unixTarget);
          target.on("error", () => channel.destroy());
          channel.on("close", () => target.destroy());
          channel.pipe(target).pipe(channel);
          pipes.push({ channel, target });
          return;
        }
        const how = peer.behaviour.stream;
        // The first request on the stream shows the client has it open: misbehave then.
        channel.once("data", () => misbehave(channel, how === "pipe" ? "silent" : how));
      });
    });
  });
  await new Promise<void>((resolve) => ssh.listen(0, "127.0.0.1", resolve));
  const sshPort = (ssh.address() as AddressInfo).port;

  /** Unframes what BOOTSTRAP_COMMAND reads ("<bytes> <timeout>\n", the script, its stdin) and runs it. */
  async function runOnDom0(channel: ServerChannel, input: Buffer): Promise<void> {
    const newline = input.indexOf("\n");
    const bytes = Number(input.subarray(0, newline).toString().split(" ")[0]);
    const script = input.subarray(newline + 1, newline + 1 + bytes).toString();
    const stdin = input.subarray(newline + 1 + bytes).toString();
    let result: { stdout: string; stderr: string; code: number };
    try {
      if (peer.dom0 === undefined) throw new Error("the SSH peer has no dom0");
      result = await peer.dom0.exec(script, { stdin });
    } catch (error) {
      result = { stdout: "", stderr: String(error), code: 127 };
    }
    channel.write(result.stdout);
    channel.stderr.write(result.stderr);
    channel.exit(result.code);
    channel.end();
  }

  function misbehave(channel: ServerChannel, how: ServerBehaviour["exec"]): void {
    held.push(channel as unknown as Socket);
    channel.on("error", () => undefined);
    if (how === "run") {
      channel.resume();
      channel.write("ok\n");
      channel.exit(0);
      channel.end();
    } else if (how === "close") peer.closeAll();
    else if (how === "stall") peer.stallAll();
    // "silent": the channel stays open and says nothing.
  }

  const front = createServer((client) => {
    connections++;
    client.on("error", () => undefined);
    const entry: { client: Socket; upstream?: Socket } = { client };
    open.add(entry);
    client.once("close", () => open.delete(entry));
    switch (peer.front) {
      case "silent":
        return;
      case "stall-in-kex":
        client.write(IDENT);
        return;
      case "close-in-kex":
        client.write(IDENT);
        // The client's identification line comes first, its KEXINIT right after: cut then.
        client.once("data", () => client.destroy());
        return;
      case "pass": {
        const upstream = connect(sshPort, "127.0.0.1");
        entry.upstream = upstream;
        upstream.on("error", () => client.destroy());
        upstream.once("close", () => client.destroy());
        client.once("close", () => upstream.destroy());
        client.pipe(upstream).pipe(client);
      }
    }
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));

  const peer: SshPeer = {
    port: (front.address() as AddressInfo).port,
    hostKey: keys.public,
    get connections() {
      return connections;
    },
    front: "pass",
    behaviour: { session: "accept", exec: "run", stream: "pipe" },
    unixTarget: undefined,
    dom0: undefined,
    closeAll() {
      for (const { client, upstream } of open) {
        client.destroy();
        upstream?.destroy();
      }
    },
    stallAll() {
      for (const { client, upstream } of open) {
        client.unpipe();
        upstream?.unpipe();
        // Read and drop: the client's writes succeed, nothing ever comes back, nothing closes.
        client.removeAllListeners("data");
        client.on("data", () => undefined);
        upstream?.pause();
      }
    },
    silenceStreams() {
      for (const { channel, target } of pipes) {
        target.unpipe(channel);
        target.pause();
        channel.unpipe(target);
        channel.on("data", () => undefined);
      }
    },
    async stop() {
      for (const { target } of pipes) target.destroy();
      peer.closeAll();
      for (const channel of held) channel.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await new Promise<void>((resolve) => ssh.close(() => resolve()));
    },
  };
  return peer;
}
