// Every host operation first waits for its SSH connection, and the host's sshd takes about 100 ms
// to answer a new one: the dial starts before the operation's own modules load, and they load in
// that wait (docs/startup.md).
import type * as HostPool from "../adapters/host-pool.js";
import type { SshConnection } from "../core/inputs.js";
import type { Log } from "../dom0/remote.js";

/**
 * Starts the host's SSH connection, which the operation's own connect then shares
 * (adapters/host-pool.ts); resolves once its client has sent its first bytes. A failed dial is
 * not kept: the operation's own connect dials again and reports it. A connection already open or
 * on its way (another resource's) starts no handshake of ours: this then waits for it.
 */
export async function dialHostFirst(connection: SshConnection, log: Log): Promise<void> {
  // A require, not an import(): the dial starts within this call, before the other calls the
  // host received meanwhile run (an import() waits for the module loader's file reads).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded at run time, see above
  const { dialHost } = require("../adapters/host-pool.js") as typeof HostPool;
  await new Promise<void>((begun) => {
    dialHost(connection, log, undefined, begun).then(
      () => begun(),
      () => begun(),
    );
  });
}
