// Turns the checked options into the adapters' connection settings: reads the key and host key
// files and the secrets' environment variables (injected, so tests need no real environment).
import { parseHostKeyPin } from "../adapters/host-key.js";
import type { SettingNames, SshConnection, XapiDirect } from "../core/inputs.js";
import { withSshDefaults, withXapiDefaults } from "../core/inputs.js";
import type { DisksOptions } from "./args.js";
import { UsageError } from "./usage-error.js";

/**
 * Dial attempts of the CLI: fewer than a resource's 10, since a person is waiting and a typo
 * in --host or --port should fail in seconds.
 */
export const CLI_DIAL_ATTEMPTS = 3;

/** The flags that set each setting, so adapter errors tell a CLI user what to change. */
export const CLI_SETTING_NAMES: SettingNames = {
  host: "--host",
  hostKey: "--host-key",
  // The CLI has no jump host: a proxy's key is never asked for.
  proxyHostKey: "--host-key",
  xapiUrl: "--xapi-url",
  xapiUsername: "--xapi-user",
  xapiPassword: "--xapi-password-env",
  tlsFingerprint: "--tls-fingerprint",
  assign: (setting, value) => `run again with ${setting} "${value}"`,
};

export interface CliEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readFile(path: string): Promise<string>;
}

export interface ResolvedConnection {
  readonly spec: SshConnection;
  readonly xapi?: XapiDirect;
}

export async function resolveConnection(
  options: DisksOptions,
  environment: CliEnvironment,
): Promise<ResolvedConnection> {
  const secret = (flag: string, name: string | undefined) => secretFromEnv(environment, flag, name);
  const privateKey =
    options.privateKeyFile === undefined
      ? undefined
      : await readOrExplain(environment, "--private-key-file", options.privateKeyFile);
  const hostKey =
    options.hostKeyFile === undefined
      ? options.hostKey
      : await readOrExplain(environment, "--host-key-file", options.hostKeyFile);
  if (
    options.hostKeyFile !== undefined &&
    (hostKey === undefined || parseHostKeyPin(hostKey) === undefined)
  ) {
    throw new UsageError(
      `--host-key-file ${options.hostKeyFile} holds no public key line ("ssh-ed25519 AAAA...") or "SHA256:..." fingerprint`,
    );
  }
  const password = secret("--password-env", options.passwordEnv);
  const agentSocketPath = environment.env["SSH_AUTH_SOCK"];
  if (privateKey === undefined && password === undefined && !agentSocketPath) {
    throw new UsageError(
      "no way to log in: give --private-key-file FILE, --password-env VAR, or run an SSH agent (SSH_AUTH_SOCK)",
    );
  }
  const spec = withSshDefaults({
    host: options.host,
    port: options.port,
    user: options.user,
    dialErrorLimit: CLI_DIAL_ATTEMPTS,
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(options.privateKeyPassphraseEnv === undefined
      ? {}
      : {
          privateKeyPassword: secret("--private-key-passphrase-env", options.privateKeyPassphraseEnv) ?? "",
        }),
    ...(password === undefined ? {} : { password }),
    ...(agentSocketPath ? { agentSocketPath } : {}),
    ...(hostKey === undefined ? {} : { hostKey: hostKey.trim() }),
    ...(options.insecureSkipHostKeyCheck ? { insecureSkipHostKeyCheck: true } : {}),
  });
  if (options.xapi === undefined) return { spec };
  const { url, username, passwordEnv, tlsFingerprint } = options.xapi;
  const xapiPassword = secret("--xapi-password-env", passwordEnv) ?? "";
  return {
    spec,
    xapi: withXapiDefaults({
      url,
      username,
      password: xapiPassword,
      ...(tlsFingerprint === undefined ? {} : { tlsFingerprint }),
    }),
  };
}

/** The variable's value; a named but unset or empty variable is a usage error (the value is never shown). */
function secretFromEnv(
  environment: CliEnvironment,
  flag: string,
  name: string | undefined,
): string | undefined {
  if (name === undefined) return undefined;
  const value = environment.env[name];
  if (value === undefined || value === "")
    throw new UsageError(`${flag} ${name}: that environment variable is not set`);
  return value;
}

async function readOrExplain(environment: CliEnvironment, flag: string, path: string): Promise<string> {
  try {
    return await environment.readFile(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(
      `${flag} ${path} cannot be read (${typeof code === "string" ? code : String(error)})`,
    );
  }
}
