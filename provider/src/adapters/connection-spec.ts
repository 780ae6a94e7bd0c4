/**
 * How to reach dom0 over SSH: the same fields and defaults as `@pulumi/command` 1.2
 * `remote.ConnectionArgs`, plus an explicit opt-out of host key checking (we verify by default).
 *
 * @example
 * const spec = withConnectionDefaults({ host: "10.0.0.5", privateKey, hostKey: "ssh-ed25519 AAAA..." });
 */
export interface ConnectionSpec {
  host: string;
  /** Default {@link DEFAULT_PORT}. */
  port: number;
  /** Default {@link DEFAULT_USER}. */
  user: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  /** Default: the `SSH_AUTH_SOCK` environment variable, when set (as @pulumi/command does). */
  agentSocketPath?: string;
  /** Dial attempts before giving up; -1 for no limit. Default {@link DEFAULT_DIAL_ERROR_LIMIT}. */
  dialErrorLimit: number;
  /** Seconds per dial attempt; 0 for no limit. Default {@link DEFAULT_PER_DIAL_TIMEOUT_SECONDS}. */
  perDialTimeout: number;
  /** The server's public key as an authorized_keys / `ssh-keyscan` line ("ssh-ed25519 AAAA..."), or its "SHA256:..." fingerprint. */
  hostKey?: string;
  /** Explicit opt-out; without it a missing `hostKey` is an error. */
  insecureSkipHostKeyCheck?: boolean;
  /** A jump host: the connection to `host` is tunnelled through an SSH connection to it. */
  proxy?: Omit<ConnectionSpec, "proxy">;
}

export const DEFAULT_PORT = 22;
export const DEFAULT_USER = "root";
export const DEFAULT_DIAL_ERROR_LIMIT = 10;
export const DEFAULT_PER_DIAL_TIMEOUT_SECONDS = 15;

/** What a caller must give; everything else has the @pulumi/command default. */
export type ConnectionInput = Omit<Partial<ConnectionSpec>, "host" | "proxy"> & {
  host: string;
  proxy?: Omit<ConnectionInput, "proxy">;
};

/** Fills in the @pulumi/command defaults (the proxy's too). */
export function withConnectionDefaults(input: ConnectionInput): ConnectionSpec {
  const { proxy, ...rest } = input;
  const spec: ConnectionSpec = {
    ...rest,
    port: input.port ?? DEFAULT_PORT,
    user: input.user ?? DEFAULT_USER,
    dialErrorLimit: input.dialErrorLimit ?? DEFAULT_DIAL_ERROR_LIMIT,
    perDialTimeout: input.perDialTimeout ?? DEFAULT_PER_DIAL_TIMEOUT_SECONDS,
  };
  if (proxy !== undefined) spec.proxy = withConnectionDefaults(proxy);
  return spec;
}

/** "root@10.0.0.5:22", or "root@10.0.0.5:22 via root@bastion:22": for messages, never secret. */
export function describeTarget(spec: Pick<ConnectionSpec, "host" | "port" | "user" | "proxy">): string {
  const self = `${spec.user}@${formatHostPort(spec.host, spec.port)}`;
  return spec.proxy === undefined ? self : `${self} via ${describeTarget(spec.proxy)}`;
}

function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
