// A host for the provider's methods without root, all in this process: a real SSH server (ssh2's)
// whose commands run on a fake dom0, and XAPI through that SSH connection to the simulator's Unix
// socket. Progress lines the provider prints are captured instead of shown.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { XapiSimulator, XapiSimulatorOptions } from "xen-sandbox";
import { closeAll } from "#provider/adapters/host-pool.js";
import { startSshPeer, type SshPeer } from "./adapters-peer-fixture";
import { FakeDom0 } from "./fake-dom0";
import { useXapiSimulator } from "./xapi-fixture";

export interface InProcessHost {
  /** The fake dom0 the SSH commands run on; its udev SR is the simulator's. */
  readonly dom0: FakeDom0;
  readonly sim: () => XapiSimulator;
  /** The SSH server the provider connects to (port, host key, connection count). */
  readonly peer: () => SshPeer;
  /** The `connection` input that reaches the SSH server (one dial attempt: failures are quick). */
  readonly connection: () => Record<string, unknown>;
  /** The lines the provider printed with console.log; the test file empties it when it wants. */
  readonly printed: string[];
}

/** Starts the host before the file's tests and stops it (and the provider's pool) after them. */
export function useInProcessHost(model: NonNullable<XapiSimulatorOptions["model"]>): InProcessHost {
  const dom0 = new FakeDom0();
  const sim = useXapiSimulator({ devices: dom0, model });
  let peer: SshPeer | undefined;
  let socketDir = "";
  const printed: string[] = [];

  beforeAll(async () => {
    socketDir = mkdtempSync(join(tmpdir(), "xp-in-process-host-"));
    await sim().listenUnix(join(socketDir, "xapi"));
    dom0.hostUuid = sim().host.uuid;
    peer = await startSshPeer();
    peer.unixTarget = join(socketDir, "xapi");
    peer.behaviour.exec = "dom0";
    peer.dom0 = dom0;
    // Progress lines reach the user through console.log (the provider's progress logs).
    jest.spyOn(console, "log").mockImplementation((line: unknown) => void printed.push(String(line)));
  });
  afterAll(async () => {
    await closeAll();
    await peer?.stop();
    if (socketDir !== "") rmSync(socketDir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  const started = (): SshPeer => {
    if (peer === undefined) throw new Error("the SSH peer did not start: see the beforeAll failure above");
    return peer;
  };
  const connection = () => ({
    host: "127.0.0.1",
    port: started().port,
    password: "any",
    hostKey: started().hostKey,
    dialErrorLimit: 1,
  });
  return { dom0, sim, peer: started, connection, printed };
}
