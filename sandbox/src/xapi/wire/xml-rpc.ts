import { formatXml } from "@vates/xml/format";
import { parseXml } from "@vates/xml/parse";
import type { XmlNode } from "@vates/xml/parse";
import { Formatter } from "@vates/xml-rpc/formatter";
import { xmlRpcParser } from "@vates/xml-rpc/parser";
import type { XapiFault } from "../faults";
import { XapiFloat, XapiInt32, formatXapiDate } from "../values";
import type { XapiValue } from "../values";

/** XML-RPC's content type, exactly as XAPI sends it (the xen-api client compares it verbatim). */
export const XML_CONTENT_TYPE = "text/xml";

/** XAPI's XML-RPC typing: ints as decimal strings, floats as <double>, dates in XAPI's basic form. */
class XapiXmlFormatter extends Formatter {
  override format_js(value: unknown): XmlNode | string {
    if (value instanceof XapiFloat) return this.format_double(value.value);
    if (value instanceof XapiInt32) return { name: "i4", children: [String(value.value)] };
    if (value instanceof Date) return { name: "dateTime.iso8601", children: [formatXapiDate(value)] };
    if (typeof value === "number" && Number.isInteger(value)) return String(value);
    return super.format_js(value);
  }
}

const formatter = new XapiXmlFormatter();

/**
 * Removes the whitespace between elements that pretty-printing clients (Python's xmlrpc.client)
 * send, keeping text inside <value> and <string>, so the @vates parser sees a compact tree.
 */
function compact(node: XmlNode): XmlNode {
  const keepsText = node.name === "string" || node.name === "value" || node.name === "name";
  const elementChildren = node.children.some((child) => typeof child !== "string");
  const children = node.children
    .filter((child) => typeof child !== "string" || (keepsText && !elementChildren) || child.trim() !== "")
    .map((child) => (typeof child === "string" ? child : compact(child)));
  if (node.name === "string" && children.length === 0) children.push("");
  return { ...node, children };
}

export interface DecodedCall {
  method: string;
  params: unknown[];
}

/** The XML declaration and surrounding whitespace, which would otherwise become the parsed root. */
const PROLOG = /^\s*(<\?xml[^>]*\?>)?\s*/;

export function decodeXmlRpcCall(body: string): DecodedCall {
  const root = parseXml(body.replace(PROLOG, ""), { normalize: false, trim: false });
  if (typeof root !== "object" || root.name !== "methodCall")
    throw new Error("the body is not a <methodCall>");
  const call = xmlRpcParser.parse_methodCall(compact(root));
  return { method: call.methodName, params: call.params };
}

function respond(payload: Record<string, unknown>): string {
  return formatXml(formatter.format_methodResponse({ params: [payload] }), { indent: 0 });
}

export function encodeXmlRpcSuccess(value: XapiValue): string {
  return respond({ Status: "Success", Value: value });
}

/**
 * A response whose value is not wrapped in {Status, Value}: XAPI answers system.listMethods this
 * way over XML-RPC (xen-api ocaml/xapi/api_server.ml `callback`), unlike every other call.
 */
export function encodeXmlRpcBare(value: XapiValue): string {
  return formatXml(formatter.format_methodResponse({ params: [value] }), { indent: 0 });
}

export function encodeXmlRpcFailure(fault: XapiFault): string {
  return respond({ Status: "Failure", ErrorDescription: [fault.code, ...fault.params] });
}

/** One `<value>…</value>` element, as XAPI stores a task's result. */
export function encodeXmlRpcValue(value: XapiValue): string {
  return formatXml(formatter.format_value(value), { indent: 0, includeDeclaration: false });
}
