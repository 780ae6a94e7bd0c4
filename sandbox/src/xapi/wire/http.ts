import type { IncomingMessage, ServerResponse } from "node:http";
import type { DispatchResult, Dispatcher } from "../dispatch/dispatcher";
import {
  JSON_CONTENT_TYPE,
  decodeJsonRpcCall,
  encodeJsonRpcFailure,
  encodeJsonRpcProtocolError,
  encodeJsonRpcSuccess,
} from "./json-rpc";
import {
  XML_CONTENT_TYPE,
  decodeXmlRpcCall,
  encodeXmlRpcBare,
  encodeXmlRpcFailure,
  encodeXmlRpcSuccess,
} from "./xml-rpc";

/** The one call XAPI answers over XML-RPC without the {Status, Value} wrapper (see encodeXmlRpcBare). */
const BARE_XML_METHOD = "system.listMethods";

/** Larger request bodies are refused (XAPI calls are small; this guards the simulator only). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  response.end(body);
}

function drop(request: IncomingMessage): void {
  request.socket.destroy();
}

/** Serves XAPI on one listener: JSON-RPC on /jsonrpc, XML-RPC on every other path (as XAPI does). */
export function xapiRequestHandler(dispatcher: Dispatcher, transport: "tls" | "unix", localHost?: string) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== "POST") {
      send(response, 405, "text/plain", "XAPI simulator: POST XML-RPC to / or JSON-RPC to /jsonrpc\n");
      return;
    }
    let body: string;
    try {
      body = await readBody(request);
    } catch {
      drop(request);
      return;
    }
    const path = (request.url ?? "/").split("?")[0];
    const dispatch = (method: string, params: readonly unknown[]) =>
      dispatcher.dispatch(method, params, transport, localHost);
    if (path === "/jsonrpc") await serveJson(dispatch, body, request, response);
    else await serveXml(dispatch, body, request, response);
  };
}

type Dispatch = (method: string, params: readonly unknown[]) => Promise<DispatchResult>;

async function serveJson(
  dispatch: Dispatch,
  body: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  let call;
  try {
    call = decodeJsonRpcCall(body);
  } catch (error) {
    send(response, 200, JSON_CONTENT_TYPE, encodeJsonRpcProtocolError((error as Error).message));
    return;
  }
  const result: DispatchResult = await dispatch(call.method, call.params);
  if (result.kind === "drop") return drop(request);
  const text =
    result.kind === "success"
      ? encodeJsonRpcSuccess(call, result.value)
      : encodeJsonRpcFailure(call, result.fault);
  send(response, 200, JSON_CONTENT_TYPE, text);
}

async function serveXml(
  dispatch: Dispatch,
  body: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  let call;
  try {
    call = decodeXmlRpcCall(body);
  } catch (error) {
    const message = `malformed XML-RPC request: ${(error as Error).message}`;
    send(
      response,
      200,
      XML_CONTENT_TYPE,
      encodeXmlRpcFailure({ code: "XMLRPC_UNMARSHAL_FAILURE", params: [message] }),
    );
    return;
  }
  const result = await dispatch(call.method, call.params);
  if (result.kind === "drop") return drop(request);
  let text: string;
  if (result.kind === "failure") text = encodeXmlRpcFailure(result.fault);
  else if (call.method === BARE_XML_METHOD) text = encodeXmlRpcBare(result.value);
  else text = encodeXmlRpcSuccess(result.value);
  send(response, 200, XML_CONTENT_TYPE, text);
}
