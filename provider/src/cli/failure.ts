// How the CLI words a failure: expected ones (usage, connection, host key, XAPI) as one clear
// message without a stack trace; a host key problem as the fingerprint and the --host-key to use.
import { HostKeyError } from "../adapters/index.js";
import { UsageError } from "./usage-error.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface Failure {
  readonly exitCode: number;
  readonly message: string;
}

/** The message and exit code for an error thrown by a command. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof UsageError) {
    return {
      exitCode: EXIT_USAGE,
      message: `${error.message}\nRun \`xen-passthrough --help\` for the options.`,
    };
  }
  if (error instanceof HostKeyError) return { exitCode: EXIT_FAILED, message: hostKeyMessage(error) };
  return { exitCode: EXIT_FAILED, message: error instanceof Error ? error.message : String(error) };
}

function hostKeyMessage(error: HostKeyError): string {
  const keyType = error.publicKeyLine.split(" ")[0] ?? "ssh-ed25519";
  const keyFile = `/etc/ssh/ssh_host_${keyType.replace(/^ssh-|-.*$/g, "")}_key.pub`;
  const problem =
    error.code === "HOST_KEY_MISMATCH"
      ? `the host key of ${error.target} does not match --host-key: possible man-in-the-middle, or the host was reinstalled.`
      : `no --host-key was given for ${error.target}, so its identity cannot be verified.`;
  return [
    problem,
    `The server presented ${error.fingerprint}`,
    `  ${error.publicKeyLine}`,
    `Check that fingerprint out of band (on the host's console: \`ssh-keygen -lf ${keyFile}\`), then run again with:`,
    `  --host-key "${error.publicKeyLine}"`,
  ].join("\n");
}
