// Every host operation first waits for its SSH connection, and the host's sshd takes about 100 ms
// to answer a new one: the dial starts before the operation's own modules load, and they load in
// that wait (docs/startup.md).
import type { SshConnection } from "../core/inputs.js";
import type { Log } from "../dom0/remote.js";

/**
 * Starts the host's SSH connection, which the operation's own connect then shares
 * (adapters/host-pool.ts); resolves once its client has sent its first bytes. A failed dial is
 * not kept: the operation's own connect dials again and reports it. A connection already open or
 * on its way (another resource's) starts no handshake of ours: this then waits for it.
 */
export async function dialHostFirst(connection: SshConnection, log: Log): Promise<void> {
  const { dialHost } = await import("../adapters/host-pool.js");
  await new Promise<void>((begun) => {
    dialHost(connection, log, undefined, begun).then(
      () => begun(),
      () => begun(),
    );
  });
}
