// Test helpers for the XAPI simulator. One line per test file:
//   const sim = useXapiSimulator();          // started before the file's tests, stopped after
// and, inside a test, `sim()` for the running simulator.
import { request as httpRequest } from "node:http";
import type { IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { startXapiSimulator } from "xen-sandbox";
import type { XapiSimulator, XapiSimulatorOptions } from "xen-sandbox";
import type { Xapi, XapiOptions } from "xen-api";

export { vbdRecord } from "../support/xapi-records";

export function useXapiSimulator(options: XapiSimulatorOptions = {}): () => XapiSimulator {
  let simulator: XapiSimulator | undefined;
  beforeAll(async () => {
    simulator = await startXapiSimulator(options);
  });
  afterAll(async () => {
    await simulator?.stop();
  });
  return () => {
    if (simulator === undefined)
      throw new Error("the XAPI simulator did not start: see the beforeAll failure above");
    return simulator;
  };
}

export type Transport = "json-rpc" | "xml-rpc";

/** A connected npm xen-api client (events on unless told otherwise); disconnect it at the end of the test. */
export async function connectClient(
  sim: XapiSimulator,
  transport: Transport,
  extra: Partial<XapiOptions> = {},
): Promise<Xapi> {
  const { createClient } = await import("xen-api");
  const xapi = createClient({
    url: sim.url,
    auth: { user: sim.username, password: sim.password },
    allowUnauthorized: true,
    transport,
    ...extra,
  });
  await xapi.connect();
  return xapi;
}

/** What a raw call got back: the decoded JSON body (JSON-RPC) or the XML text (XML-RPC). */
export interface RawReply {
  status: number;
  contentType: string;
  body: string;
}

/** Where a raw request goes: the simulator's TLS listener or a Unix socket. */
export type Target = { sim: XapiSimulator } | { socketPath: string };

export function rawPost(target: Target, path: string, contentType: string, body: string): Promise<RawReply> {
  return rawRequest(target, "POST", path, contentType, body);
}

export function rawRequest(
  target: Target,
  method: string,
  path: string,
  contentType: string,
  body: string,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const headers = { "content-type": contentType, "content-length": Buffer.byteLength(body) };
    const onResponse = (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: String(response.headers["content-type"]),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    };
    const req =
      "sim" in target
        ? httpsRequest(
            new URL(path, target.sim.url),
            { method, headers, ca: target.sim.certificatePem, agent: false },
            onResponse,
          )
        : httpRequest({ socketPath: target.socketPath, path, method, headers, agent: false }, onResponse);
    req.on("error", reject);
    req.end(body);
  });
}

/** A JSON-RPC 2.0 call; returns the parsed reply object. */
export async function jsonRpc(
  target: Target,
  method: string,
  params: unknown[],
): Promise<Record<string, unknown>> {
  const reply = await rawPost(
    target,
    "/jsonrpc",
    "application/json",
    JSON.stringify({ jsonrpc: "2.0", method, params, id: 7 }),
  );
  return JSON.parse(reply.body) as Record<string, unknown>;
}

/** A JSON-RPC call that must succeed; returns its result. */
export async function jsonResult<T = unknown>(target: Target, method: string, params: unknown[]): Promise<T> {
  const reply = await jsonRpc(target, method, params);
  if (!("result" in reply)) throw new Error(`${method} failed: ${JSON.stringify(reply["error"])}`);
  return reply["result"] as T;
}

/** The XAPI failure of a JSON-RPC call as [code, ...params], or undefined if it succeeded. */
export async function jsonFailure(
  target: Target,
  method: string,
  params: unknown[],
): Promise<string[] | undefined> {
  const reply = await jsonRpc(target, method, params);
  const error = reply["error"] as { message: string; data: string[] } | undefined;
  return error === undefined ? undefined : [error.message, ...error.data];
}

/** Logs in over TLS with the simulator's credentials and returns the session ref. */
export function login(sim: XapiSimulator): Promise<string> {
  return jsonResult<string>({ sim }, "session.login_with_password", [
    sim.username,
    sim.password,
    "1.0",
    "xp-tests",
  ]);
}

/** Resolves when `condition` holds after some change; for event-driven state, never a fixed wait. */
export async function eventually(condition: () => boolean, what: string, tries = 500): Promise<void> {
  for (let attempt = 0; attempt < tries; attempt += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting until ${what}`);
}

/** The positional arguments of VDI.introduce for a udev-SR disk (uuid, SR and location vary). */
export function introduceArgs(uuid: string, sr: unknown, location: string): unknown[] {
  return [uuid, "", "", sr, "user", false, false, {}, location, {}, {}];
}

/** A request to the simulator's control endpoint (JSON in, JSON out). */
export async function controlRequest(
  sim: XapiSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL(path, sim.controlUrl), {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  return { status: response.status, body: await response.json() };
}
