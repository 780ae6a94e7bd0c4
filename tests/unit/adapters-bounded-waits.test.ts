// Every remote wait ends, whatever the peer does: the dial, the SSH handshake, a channel open, a
// command, the forwarded XAPI stream and an XAPI call each fail with an error naming the host
// and the stage when the peer closes, goes half-open or stays silent. A failed dial is not
// cached: the next operation dials afresh. The peer is a real SSH server behind a TCP front we
// control (adapters-peer-fixture.ts); timeouts are short through the settings, nothing sleeps.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  closeAll,
  openHostSessions,
  RemoteHost,
  SshConnectionError,
  XapiSession,
  XapiTransportError,
} from "#provider/adapters/index.js";
import { loadXapiClient } from "#provider/adapters/xapi.js";
import type { SshConnection, SshConnectionGiven } from "#provider/core/inputs.js";
import { withSshDefaults } from "#provider/core/inputs.js";
import type { SshPeer } from "./adapters-peer-fixture";
import { startSshPeer } from "./adapters-peer-fixture";
import { useXapiSimulator } from "./xapi-fixture";

/** A hang shows as this test timeout (on the code before bounded waits, these tests hang). */
const HANG = 30_000;

const sim = useXapiSimulator();
let peer: SshPeer;
let socketDir: string;

beforeAll(async () => {
  // Loaded once per process anyway; loading it here keeps its first import (which blocks the
  // event loop for a moment) out of the timed-out waits under test.
  await loadXapiClient();
  socketDir = mkdtempSync(join(tmpdir(), "xp-bounded-"));
  await sim().listenUnix(join(socketDir, "xapi"));
});
afterAll(() => rmSync(socketDir, { recursive: true, force: true }));

beforeEach(async () => {
  peer = await startSshPeer();
  peer.unixTarget = join(socketDir, "xapi");
});
afterEach(async () => {
  await closeAll();
  await peer.stop();
});

/** Short bounds, one dial attempt: each failing wait ends within seconds (loose enough for a loaded machine). */
function spec(extra: Partial<SshConnectionGiven> = {}): SshConnection {
  return withSshDefaults({
    host: "127.0.0.1",
    port: peer.port,
    password: "any",
    hostKey: peer.hostKey,
    dialErrorLimit: 1,
    perDialTimeout: 2,
    operationTimeout: 2,
    ...extra,
  });
}

function target(): string {
  return `root@127.0.0.1:${peer.port}`;
}

async function failure(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a failure, the operation succeeded");
}

describe("dial and handshake", () => {
  test(
    "a connection cut during key exchange fails the dial, and the next operation dials afresh",
    async () => {
      peer.front = "close-in-kex";
      const first = await failure(openHostSessions(spec()).remote);
      expect(first).toBeInstanceOf(SshConnectionError);
      expect(first.message).toContain(target());
      expect(first.message).toContain("SSH handshake");
      expect((first as SshConnectionError).stage).toBe("SSH handshake");

      peer.front = "pass";
      const remote = await openHostSessions(spec()).remote;
      expect(await remote.run("anything")).toBe("ok\n");
      expect(peer.connections).toBe(2);
    },
    HANG,
  );

  test.each([
    ["stays silent", "silent"],
    ["goes half-open after its identification", "stall-in-kex"],
  ] as const)(
    "a peer that %s fails the dial with a timeout naming the host and the stage",
    async (_what, mode) => {
      peer.front = mode;
      const error = await failure(RemoteHost.connect(spec()));
      expect(error).toBeInstanceOf(SshConnectionError);
      expect(error.message).toContain(target());
      expect(error.message).toContain("during the SSH handshake");
      expect((error as SshConnectionError).stage).toBe("SSH handshake");
    },
    HANG,
  );

  test(
    "every attempt is bounded: dialErrorLimit attempts, then the error",
    async () => {
      peer.front = "close-in-kex";
      const lines: string[] = [];
      const error = await failure(
        RemoteHost.connect(spec({ dialErrorLimit: 3 }), (line) => lines.push(line)),
      );
      expect(error.message).toContain("SSH handshake");
      expect(lines).toEqual(["Dial 1/3 failed: retrying", "Dial 2/3 failed: retrying"]);
      expect(peer.connections).toBe(3);
    },
    HANG,
  );
});

describe("channel open and command", () => {
  test(
    "an unanswered channel open fails naming the stage; the connection is dialled again once",
    async () => {
      const remote = await RemoteHost.connect(spec());
      peer.behaviour.session = "ignore";
      const error = await failure(remote.exec("true"));
      expect(error).toBeInstanceOf(SshConnectionError);
      expect(error.message).toContain(target());
      expect((error as SshConnectionError).stage).toBe("channel open");
      expect(peer.connections).toBe(2);
      await remote.close();
    },
    HANG,
  );

  test.each([
    ["stays silent", "silent", "did not finish within 2000 ms"],
    ["closes the connection", "close", "the connection was lost while running"],
    ["goes half-open", "stall", "did not finish within 2000 ms"],
  ] as const)(
    "a peer that %s during a command fails it naming the command, the host and the stage",
    async (_what, how, words) => {
      const remote = await RemoteHost.connect(spec());
      peer.behaviour.exec = how;
      const error = await failure(remote.exec("echo started"));
      expect(error).toBeInstanceOf(SshConnectionError);
      expect(error.message).toContain(words);
      expect(error.message).toContain(`\`echo started\` on ${target()}`);
      expect((error as SshConnectionError).stage).toBe("command");
      await remote.close();
    },
    HANG,
  );

  test(
    "after a half-open connection, the next command dials afresh",
    async () => {
      const remote = await RemoteHost.connect(spec());
      peer.behaviour.exec = "stall";
      await failure(remote.exec("true"));
      peer.behaviour.exec = "run";
      expect(await remote.run("true")).toBe("ok\n");
      expect(peer.connections).toBe(2);
      await remote.close();
    },
    HANG,
  );
});

/** What the peer of a forwarded stream does, in words and as the fixture's behaviour. */
const STREAM_FAULTS = [
  ["stays silent", "silent"],
  ["closes the connection", "close"],
  ["goes half-open", "stall"],
] as const;

describe("forwarded XAPI stream and XAPI call", () => {
  test.each(STREAM_FAULTS)(
    "a forwarded stream whose peer %s fails the login naming XAPI of the host",
    async (_what, how) => {
      const remote = await RemoteHost.connect(spec());
      peer.behaviour.stream = how;
      const error = await failure(XapiSession.open({ kind: "ssh", host: remote, socketPath: "/xapi" }));
      expect(error.message).toContain(`XAPI of ${target()}`);
      expect(error.message).toContain("session.login_with_password");
      await remote.close();
    },
    HANG,
  );

  test.each(STREAM_FAULTS)(
    "an XAPI call whose peer %s fails naming the call, XAPI of the host and the stage",
    async (_what, how) => {
      const remote = await RemoteHost.connect(spec());
      const xapi = await XapiSession.open({ kind: "ssh", host: remote, socketPath: "/xapi" });
      expect(await xapi.call<string[]>("host.get_all")).toHaveLength(1);
      // New streams misbehave too, so the call cannot reach XAPI another way.
      peer.behaviour.stream = how;
      if (how === "close") peer.closeAll();
      if (how === "stall") peer.stallAll();
      if (how === "silent") peer.silenceStreams();
      const error = await failure(xapi.call("VM.get_all"));
      expect(error).toBeInstanceOf(XapiTransportError);
      expect(error.message).toContain("VM.get_all");
      expect(error.message).toContain(`XAPI of ${target()}`);
      await xapi.close();
      await remote.close();
    },
    HANG,
  );
});
