import type { Server } from "node:net";

/** How often a port one host's loopback address already has in use is given up for another. */
const PORT_ATTEMPTS = 5;

/**
 * Pure: the address host `index` of the pool listens on. Real pool hosts share XAPI's port (443)
 * on addresses of their own, and HOST_IS_SLAVE names only the master's address (xen-api
 * ocaml/xapi/xapi_session.ml, `Pool_role.get_master_address`): a client keeps its port and swaps the address (the xen-api npm client's `_sessionOpenRetryOptions` does). So on
 * the default loopback address each host gets one of its own, 127.0.0.<index + 1>, all on one
 * port. Choice: any other listen address is shared by every host, each on a port of its own
 * (a client following HOST_IS_SLAVE there reaches a member, not the master).
 */
export function hostListenAddress(listenHost: string, index: number): string {
  return listenHost === "127.0.0.1" ? `127.0.0.${index + 1}` : listenHost;
}

function listenTcp(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}

/**
 * Starts each host's HTTPS listener: the master's on `port` (0: a free one), every member's on
 * its own loopback address with the master's port when the addresses are per host (see
 * hostListenAddress). A port another process holds on a member's address is given up for a new
 * free one, a few times; a port asked for is never given up.
 */
export async function listenPool(
  servers: readonly Server[],
  listenHost: string,
  port: number,
): Promise<void> {
  const shared = hostListenAddress(listenHost, 1) === listenHost;
  for (let attempt = 1; ; attempt++) {
    const [master, ...members] = servers;
    if (master === undefined) return;
    const chosen = await listenTcp(master, port, hostListenAddress(listenHost, 0));
    try {
      for (const [index, member] of members.entries())
        await listenTcp(member, shared ? 0 : chosen, hostListenAddress(listenHost, index + 1));
      return;
    } catch (error) {
      const taken = (error as NodeJS.ErrnoException).code === "EADDRINUSE";
      await Promise.all(servers.map(closeServer));
      if (!taken || port !== 0 || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}
