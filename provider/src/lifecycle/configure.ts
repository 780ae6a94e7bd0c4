// configure: direct-HTTPS XAPI settings from stack config (namespace xen-passthrough), used by
// every resource whose inputs name no `xapi`.
import type { dynamic } from "@pulumi/pulumi";
import { parseXapiDirect } from "../core/check.js";
import { setStackXapi } from "./connect.js";

const NAMESPACE = "xen-passthrough";

export function configure(request: dynamic.ConfigureRequest): Promise<void> {
  const get = (key: string): unknown => request.config.get(`${NAMESPACE}:${key}`);
  if (get("xapiUrl") === undefined) {
    setStackXapi(undefined);
    return Promise.resolve();
  }
  setStackXapi(
    parseXapiDirect(
      {
        url: get("xapiUrl"),
        username: get("xapiUsername"),
        password: get("xapiPassword"),
        tlsFingerprint: get("xapiTlsFingerprint"),
      },
      `${NAMESPACE}:`,
    ),
  );
  return Promise.resolve();
}
