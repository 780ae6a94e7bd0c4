import { request } from "node:http";
import { toError } from "../core/error-base.js";
import { XapiError } from "./errors.js";

/**
 * One JSON-RPC call to XAPI over plain HTTP (our tunnel's end). Only for `session.*` and reads
 * (the session passed as the first parameter): the xen-api client makes every change.
 */
export async function jsonRpcCall(
  baseUrl: string,
  method: string,
  params: unknown[],
  timeoutMs: number,
): Promise<unknown> {
  const sent = { onStaleConnection: false };
  try {
    return await post(baseUrl, method, params, timeoutMs, sent);
  } catch (error) {
    // A kept-alive connection to the tunnel can die with the SSH connection under it between two
    // calls; Node's documentation advises sending again on a new connection then.
    if (!sent.onStaleConnection) throw error;
    return post(baseUrl, method, params, timeoutMs, sent);
  }
}

function post(
  baseUrl: string,
  method: string,
  params: unknown[],
  timeoutMs: number,
  /** Set when the request failed on a reused keep-alive connection that the other end had closed. */
  sent: { onStaleConnection: boolean },
): Promise<unknown> {
  const body = JSON.stringify({ jsonrpc: "2.0", method, params, id: 1 });
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/jsonrpc`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        "content-length": Buffer.byteLength(body),
      },
      timeout: timeoutMs,
    });
    req.once("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once("error", (error: NodeJS.ErrnoException) => {
      sent.onStaleConnection = req.reusedSocket && error.code === "ECONNRESET";
      reject(error);
    });
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", reject);
      res.once("end", () => {
        try {
          resolve(
            parseReply(
              method,
              res.statusCode,
              res.headers["content-type"],
              Buffer.concat(chunks).toString("utf8"),
            ),
          );
        } catch (error) {
          reject(toError(error));
        }
      });
    });
    req.end(body);
  });
}

function parseReply(
  method: string,
  status: number | undefined,
  contentType: string | undefined,
  text: string,
): unknown {
  if (status !== 200 || contentType?.split(";")[0]?.trim() !== "application/json") {
    throw new Error(
      `unexpected HTTP ${status ?? "?"} (${contentType ?? "no content type"}) to ${method}; ` +
        `is this XAPI (XenServer 7.3+ / XCP-ng speak JSON-RPC)?`,
    );
  }
  const reply = JSON.parse(text) as { result?: unknown; error?: { message?: unknown; data?: unknown } };
  if (reply.error !== undefined) {
    const { message, data } = reply.error;
    const params = Array.isArray(data) ? data.map(String) : [];
    throw new XapiError(method, typeof message === "string" ? message : "UNKNOWN_ERROR", params);
  }
  return reply.result;
}
