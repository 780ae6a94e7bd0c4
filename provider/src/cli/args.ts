// The command line, parsed and checked without I/O: files and environment variables are only
// named here; connection.ts reads them. Values are checked with the resource's own allow-lists
// (core/patterns.ts), so the CLI accepts what a PassthroughDisk accepts.
import { parseArgs } from "node:util";
import { parseHostKeyPin } from "../adapters/host-key.js";
import { messageOf } from "../core/error-base.js";
import type { AllowList } from "../core/patterns.js";
import { ALLOW } from "../core/patterns.js";
import { LIMITS, SSH_DEFAULTS, XAPI_DEFAULTS } from "../core/inputs.js";
import { describeForbidden } from "../core/schema.js";
import { UsageError } from "./usage-error.js";

/** Options of `xen-passthrough disks`, checked. Secrets appear only as the names of their variables. */
export interface DisksOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKeyFile?: string;
  readonly privateKeyPassphraseEnv?: string;
  readonly passwordEnv?: string;
  /** A public key line or "SHA256:..." fingerprint, given inline. */
  readonly hostKey?: string;
  readonly hostKeyFile?: string;
  readonly insecureSkipHostKeyCheck: boolean;
  readonly xapi?: {
    readonly url: string;
    readonly username: string;
    readonly passwordEnv: string;
    readonly tlsFingerprint?: string;
  };
  readonly json: boolean;
  readonly all: boolean;
}

export type Command =
  | { readonly command: "help" }
  | { readonly command: "version" }
  | { readonly command: "disks"; readonly options: DisksOptions }
  | { readonly command: "usb"; readonly options: DisksOptions };

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  user: { type: "string" },
  "private-key-file": { type: "string" },
  "private-key-passphrase-env": { type: "string" },
  "password-env": { type: "string" },
  "host-key": { type: "string" },
  "host-key-file": { type: "string" },
  "insecure-skip-host-key-check": { type: "boolean" },
  "xapi-url": { type: "string" },
  "xapi-user": { type: "string" },
  "xapi-password-env": { type: "string" },
  "tls-fingerprint": { type: "string" },
  json: { type: "boolean" },
  all: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses `argv` (without node and the script). Throws UsageError for anything it does not accept.
 *
 * @example
 * parseCommandLine(["disks", "--host", "xen1", "--private-key-file", "id_ed25519", "--json"]);
 */
export function parseCommandLine(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs names the option, never a secret (secrets are never option values).
    const message = messageOf(error);
    // parseArgs adds advice about "--" that does not apply to this command: name the option alone.
    const unknown =
      (error as { code?: unknown }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
        ? /'([^']+)'/.exec(message)?.[1]
        : undefined;
    throw new UsageError(unknown === undefined ? message : `unknown option ${unknown}`);
  }
  const { values, positionals } = parsed;
  if (values.help === true || positionals[0] === "help") return { command: "help" };
  if (values.version === true) return { command: "version" };
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError("no command given; the commands are `disks` and `usb`");
  if (command !== "disks" && command !== "usb")
    throw new UsageError(`unknown command "${command}"; the commands are \`disks\` and \`usb\``);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0] ?? ""}"`);

  if (values.host === undefined) throw new UsageError("--host is required");
  const hostKeyGiven = values["host-key"] !== undefined || values["host-key-file"] !== undefined;
  if (values["host-key"] !== undefined && values["host-key-file"] !== undefined)
    throw new UsageError("give --host-key or --host-key-file, not both");
  if (hostKeyGiven && values["insecure-skip-host-key-check"] === true)
    throw new UsageError(
      "--insecure-skip-host-key-check contradicts --host-key/--host-key-file: keep the host key",
    );
  if (values["host-key"] !== undefined && parseHostKeyPin(values["host-key"]) === undefined)
    throw new UsageError(
      '--host-key holds no public key: give a line like "ssh-ed25519 AAAA..." or a "SHA256:..." fingerprint',
    );

  const options: DisksOptions = {
    host: allowed("--host", values.host, ALLOW.host),
    port: port(values.port),
    user: values.user === undefined ? SSH_DEFAULTS.user : allowed("--user", values.user, ALLOW.user),
    ...optional("privateKeyFile", values["private-key-file"]),
    ...optional(
      "privateKeyPassphraseEnv",
      envName("--private-key-passphrase-env", values["private-key-passphrase-env"]),
    ),
    ...optional("passwordEnv", envName("--password-env", values["password-env"])),
    ...optional("hostKey", values["host-key"]),
    ...optional("hostKeyFile", values["host-key-file"]),
    insecureSkipHostKeyCheck: values["insecure-skip-host-key-check"] === true,
    ...optional("xapi", xapiOptions(values)),
    json: values.json === true,
    all: values.all === true,
  };
  if (command === "usb" && options.all) throw new UsageError("--all applies to `disks` only");
  return { command, options };
}

function xapiOptions(values: {
  readonly "xapi-url"?: string | undefined;
  readonly "xapi-user"?: string | undefined;
  readonly "xapi-password-env"?: string | undefined;
  readonly "tls-fingerprint"?: string | undefined;
}): DisksOptions["xapi"] {
  const url = values["xapi-url"];
  if (url === undefined) {
    const stray = (["xapi-user", "xapi-password-env", "tls-fingerprint"] as const).find(
      (name) => values[name] !== undefined,
    );
    if (stray !== undefined) throw new UsageError(`--${stray} needs --xapi-url`);
    return undefined;
  }
  const passwordEnv = envName("--xapi-password-env", values["xapi-password-env"]);
  if (passwordEnv === undefined)
    throw new UsageError("--xapi-url needs --xapi-password-env VAR (the XAPI password)");
  const fingerprint = values["tls-fingerprint"];
  return {
    url: allowed("--xapi-url", url, ALLOW.xapiUrl),
    username:
      values["xapi-user"] === undefined
        ? XAPI_DEFAULTS.username
        : allowed("--xapi-user", values["xapi-user"], ALLOW.user),
    passwordEnv,
    ...optional(
      "tlsFingerprint",
      fingerprint === undefined ? undefined : allowed("--tls-fingerprint", fingerprint, ALLOW.tlsFingerprint),
    ),
  };
}

function allowed(flag: string, value: string, allow: AllowList): string {
  if (allow.pattern.test(value)) return value;
  throw new UsageError(`${flag} ${describeForbidden(value, allow)}; allowed: ${allow.allowed}`);
}

function port(value: string | undefined): number {
  if (value === undefined) return SSH_DEFAULTS.port;
  const number = Number(value);
  const { min, max } = LIMITS.port;
  if (/^[0-9]{1,5}$/.test(value) && number >= min && number <= max) return number;
  throw new UsageError(`--port must be a whole number from ${min} to ${max}`);
}

function envName(flag: string, value: string | undefined): string | undefined {
  if (value === undefined || ENV_NAME.test(value)) return value;
  // Not echoed: a user may have typed the secret itself here by mistake.
  throw new UsageError(
    `${flag} takes the NAME of an environment variable (letters, digits, "_"), not the secret`,
  );
}

/** `{ key: value }` when value is set, else `{}` (exactOptionalPropertyTypes forbids `key: undefined`). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
