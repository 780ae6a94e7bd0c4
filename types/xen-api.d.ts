// Minimal typing of the ESM-only `xen-api` client (it ships none): only what we use.
declare module "xen-api" {
  export interface XapiOptions {
    url: string;
    /** Credentials, or a session opened elsewhere (the client then skips its own login). */
    auth?: { user: string; password: string } | { sessionId: string };
    allowUnauthorized?: boolean;
    watchEvents?: boolean | string[];
    readOnly?: boolean;
    httpProxy?: string;
    syncStackTraces?: boolean;
    /** Milliseconds per call (default one hour). */
    callTimeout?: number;
    /** Forces one wire protocol; default "auto" (JSON-RPC first, then XML-RPC). */
    transport?: "auto" | "json-rpc" | "xml-rpc";
    /** Delay between two event.from calls, in ms (default 200). */
    debounce?: number;
  }

  export class Xapi {
    constructor(options: XapiOptions);
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
    callAsync<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
    readonly status: "connected" | "connecting" | "disconnected";
    readonly sessionId: string | undefined;
    /** Resolves once the initial get_all_records fetch of the event watcher is done. */
    readonly objectsFetched: Promise<void>;
    readonly objects: {
      all: Record<string, Record<string, unknown> & { $type: string; $ref: string }>;
    };
  }

  /** Errors from XAPI reach callers as Error objects carrying the XAPI code and params. */
  export interface XapiErrorShape extends Error {
    code: string;
    params: string[];
  }

  export function createClient(options: XapiOptions): Xapi;
}
