import type { Server } from "node:net";

/** Listens on a free loopback port; resolves with the port (`what` names the server in errors). */
export function listenOnLoopback(server: Server, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error(`the ${what}'s listener has no TCP address`));
        return;
      }
      resolve(address.port);
    });
  });
}
