// Reaching a dom0's XAPI the way the provider does: a real SSH connection (host key pinned) and a
// local TCP listener piping each connection into /var/lib/xcp/xapi (stream-local forwarding).
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type { Server } from "node:net";
import { createServer } from "node:net";

import { Client } from "ssh2";
import type { SandboxDescription } from "xen-sandbox";

export const XAPI_SOCKET = "/var/lib/xcp/xapi";

/** An SSH connection to the sandbox's dom0 with its key, accepting only its host key. */
export async function connectSsh({ ssh }: Pick<SandboxDescription, "ssh">): Promise<Client> {
  const expectedKey = Buffer.from(ssh.hostKey.split(" ")[1] ?? "", "base64");
  const client = new Client();
  const ready = once(client, "ready");
  client.connect({
    host: ssh.host,
    port: ssh.port,
    username: ssh.user,
    privateKey: readFileSync(ssh.privateKeyPath),
    hostVerifier: (key: Buffer) => key.equals(expectedKey),
  });
  await ready;
  return client;
}

/** A local TCP listener that pipes every connection into dom0's XAPI socket over SSH. */
export async function forwardXapi(client: Client): Promise<Server> {
  const server = createServer((socket) => {
    client.openssh_forwardOutStreamLocal(XAPI_SOCKET, (error, stream) => {
      if (error) {
        socket.destroy(error);
        return;
      }
      socket.pipe(stream).pipe(socket);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}
