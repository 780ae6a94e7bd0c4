// The sandbox's TCP latency proxy: every byte arrives, in order, in both directions, and a
// half-close is passed on. (No timing assertions: only counts and order.)
import { createServer, connect, type Server, type Socket } from "node:net";
import { startLatencyProxy, type LatencyProxy } from "xen-sandbox";

/** An echo server that also reports, per connection, when the client ended its side. */
function startEcho(): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("data", (chunk) => socket.write(chunk));
    socket.on("end", () => socket.end("<eof>"));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no TCP address");
      resolve({ server, port: address.port });
    }),
  );
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Writes the messages one by one (separate chunks), ends, and collects everything echoed. */
async function roundTrip(port: number, messages: readonly string[]): Promise<string> {
  const socket = await dial(port);
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.once("end", () => resolve()));
  for (const message of messages) {
    socket.write(message);
    await new Promise((resolve) => setImmediate(resolve));
  }
  socket.end();
  await closed;
  socket.destroy();
  return received;
}

let echo: { server: Server; port: number };
let proxy: LatencyProxy;

beforeAll(async () => {
  echo = await startEcho();
  proxy = await startLatencyProxy({ target: { host: "127.0.0.1", port: echo.port }, oneWayDelayMs: 2 });
});
afterAll(async () => {
  await proxy.stop();
  await new Promise((resolve) => echo.server.close(resolve));
});

test("every chunk arrives once, in order, and the end follows the data", async () => {
  const messages = Array.from({ length: 200 }, (_, i) => `${i},`);
  expect(await roundTrip(proxy.port, messages)).toBe(`${messages.join("")}<eof>`);
});

test("concurrent connections stay apart, and each is counted", async () => {
  const before = proxy.connections();
  const replies = await Promise.all(
    ["a", "b", "c", "d"].map((tag) =>
      roundTrip(
        proxy.port,
        Array.from({ length: 50 }, (_, i) => `${tag}${i};`),
      ),
    ),
  );
  replies.forEach((reply, index) => {
    const tag = ["a", "b", "c", "d"][index] ?? "";
    expect(reply).toBe(`${Array.from({ length: 50 }, (_, i) => `${tag}${i};`).join("")}<eof>`);
  });
  expect(proxy.connections() - before).toBe(4);
});

test("the first byte of each client is timed on arrival; a silent client has none", async () => {
  const before = proxy.firstClientBytes().length;
  const silent = await dial(proxy.port);
  const sentAt = performance.now();
  await roundTrip(proxy.port, ["first", "second"]);
  const times = proxy.firstClientBytes().slice(before);
  silent.destroy();
  // One time for the client that wrote (two chunks), none for the one that only connected.
  expect(times).toHaveLength(1);
  expect(times[0]).toBeGreaterThanOrEqual(sentAt);
  expect(times[0]).toBeLessThanOrEqual(performance.now());
});

test("a large transfer arrives whole", async () => {
  const big = "x".repeat(1024 * 1024);
  const reply = await roundTrip(proxy.port, [big]);
  expect(reply.length).toBe(big.length + "<eof>".length);
});

test("a zero delay works; a negative one is refused", async () => {
  const direct = await startLatencyProxy({
    target: { host: "127.0.0.1", port: echo.port },
    oneWayDelayMs: 0,
  });
  try {
    expect(await roundTrip(direct.port, ["hello"])).toBe("hello<eof>");
  } finally {
    await direct.stop();
  }
  await expect(
    startLatencyProxy({ target: { host: "127.0.0.1", port: echo.port }, oneWayDelayMs: -1 }),
  ).rejects.toThrow(/oneWayDelayMs/);
});

test("stop closes open connections (the client sees the end)", async () => {
  const extra = await startLatencyProxy({ target: { host: "127.0.0.1", port: echo.port }, oneWayDelayMs: 1 });
  const socket = await dial(extra.port);
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
  // The client allows half-open sockets: the proxy's side closing shows as "end" here.
  const ended = new Promise<void>((resolve) => socket.once("end", () => resolve()));
  await extra.stop();
  await ended;
  socket.destroy();
  expect(received).toBe("");
});
