import { request } from "node:http";

/** A XAPI failure: code and params, exactly as the server sent them. */
export class XapiCallError extends Error {
  override readonly name = "XapiCallError";

  constructor(
    readonly code: string,
    readonly params: readonly string[],
  ) {
    super(`${code}${params.length > 0 ? ` [${params.join(", ")}]` : ""}`);
  }
}

export type Call = (method: string, ...params: unknown[]) => Promise<unknown>;

/** dom0's local XAPI socket; XE_XAPI_SOCKET overrides it (tests outside dom0). */
export const XAPI_SOCKET = process.env["XE_XAPI_SOCKET"] ?? "/var/lib/xcp/xapi";

let nextId = 1;

/** One JSON-RPC 2.0 call to XAPI over its Unix socket. */
export function jsonRpcCall(
  socketPath: string,
  method: string,
  params: readonly unknown[],
): Promise<unknown> {
  const body = JSON.stringify({ jsonrpc: "2.0", method, params, id: nextId++ });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path: "/jsonrpc",
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          try {
            const reply = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
              result?: unknown;
              error?: { message?: unknown; data?: unknown } | null;
            };
            if (reply.error === undefined || reply.error === null) {
              resolve(reply.result);
              return;
            }
            const params = Array.isArray(reply.error.data) ? reply.error.data.map(String) : [];
            reject(new XapiCallError(String(reply.error.message), params));
          } catch (error) {
            reject(
              new Error(`XAPI sent a reply that is not JSON-RPC (HTTP ${res.statusCode}): ${String(error)}`),
            );
          }
        });
      },
    );
    req.on("error", (error) =>
      reject(new Error(`cannot reach XAPI on ${socketPath}: ${error.message}. Is xapi running?`)),
    );
    req.end(body);
  });
}

/**
 * Runs `work` in a fresh session, logging out afterwards, like the real xe does on every
 * invocation. Over the local socket the password is not checked (local superuser).
 */
export async function withSession<T>(socketPath: string, work: (call: Call) => Promise<T>): Promise<T> {
  const session = await jsonRpcCall(socketPath, "session.login_with_password", ["root", "", "1.0", "xe"]);
  const call: Call = (method, ...params) => jsonRpcCall(socketPath, method, [session, ...params]);
  try {
    return await work(call);
  } finally {
    await jsonRpcCall(socketPath, "session.logout", [session]).catch(() => undefined);
  }
}
