// The local tunnel: each accepted connection is piped into a freshly opened stream.
import { once } from "node:events";
import { connect, createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { openLocalTunnel } from "#provider/adapters/index.js";

let echo: Server;
let echoPort: number;
beforeAll(async () => {
  echo = createServer((socket) => socket.pipe(socket));
  echo.listen(0, "127.0.0.1");
  await once(echo, "listening");
  echoPort = (echo.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

function openEcho(): Promise<Socket> {
  const socket = connect(echoPort, "127.0.0.1");
  return once(socket, "connect").then(() => socket);
}

async function roundTrip(url: string, text: string): Promise<string> {
  const { port } = new URL(url);
  const socket = connect(Number(port), "127.0.0.1");
  socket.end(text);
  let received = "";
  for await (const chunk of socket) received += String(chunk);
  return received;
}

describe("openLocalTunnel", () => {
  it("listens on 127.0.0.1 and opens one stream per accepted connection", async () => {
    let opened = 0;
    const tunnel = await openLocalTunnel(() => {
      opened++;
      return openEcho();
    });
    try {
      expect(tunnel.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await roundTrip(tunnel.url, "first")).toBe("first");
      expect(await roundTrip(tunnel.url, "second")).toBe("second");
      expect(opened).toBe(2);
      expect(tunnel.lastOpenError).toBeUndefined();
    } finally {
      await tunnel.close();
    }
  });

  it("closes the accepted connection and records why when the stream cannot be opened", async () => {
    const tunnel = await openLocalTunnel(() => Promise.reject(new Error("channel refused")));
    try {
      expect(await roundTrip(tunnel.url, "lost")).toBe("");
      expect(tunnel.lastOpenError?.error.message).toBe("channel refused");
    } finally {
      await tunnel.close();
    }
  });

  it("ends the connections in flight when closed, and stops listening", async () => {
    const tunnel = await openLocalTunnel(openEcho);
    const { port } = new URL(tunnel.url);
    const client = connect(Number(port), "127.0.0.1");
    client.write("ping");
    await once(client, "data");
    const closed = once(client, "close");
    await tunnel.close();
    await closed;
    const refused = connect(Number(port), "127.0.0.1");
    const [error] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
  });
});
