// Minimal typing of the untyped @vates/xml and @vates/xml-rpc packages (only what the codecs use).
declare module "@vates/xml/parse" {
  export interface XmlNode {
    name: string;
    attributes?: Record<string, string>;
    children: Array<XmlNode | string>;
  }
  export function parseXml(
    xml: string,
    options?: { normalize?: boolean; strict?: boolean; trim?: boolean },
  ): XmlNode;
}

declare module "@vates/xml/format" {
  import type { XmlNode } from "@vates/xml/parse";
  export function formatXml(
    tree: XmlNode,
    options?: { includeDeclaration?: boolean; indent?: number | string },
  ): string;
}

declare module "@vates/xml-rpc/parser" {
  import type { XmlNode } from "@vates/xml/parse";
  export const xmlRpcParser: {
    parse_methodCall(node: XmlNode): { methodName: string; params: unknown[] };
  };
}

declare module "@vates/xml-rpc/formatter" {
  import type { XmlNode } from "@vates/xml/parse";
  export class Formatter {
    format_js(value: unknown): XmlNode | string;
    format_value(value: unknown): XmlNode;
    format_double(value: number): XmlNode;
    format_methodResponse(response: { params: unknown[] }): XmlNode;
  }
}
