// Minimal typing of the ESM-only `xen-api` client (it ships none): only what we use.
declare module "xen-api" {
  export interface XapiOptions {
    url: string;
    auth?: { user: string; password: string };
    allowUnauthorized?: boolean;
    watchEvents?: boolean | string[];
    readOnly?: boolean;
    httpProxy?: string;
    syncStackTraces?: boolean;
  }

  export class Xapi {
    constructor(options: XapiOptions);
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
    callAsync<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
    readonly status: "connected" | "connecting" | "disconnected";
    readonly sessionId: string | undefined;
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
