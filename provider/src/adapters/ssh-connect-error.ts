/** Where on the way to a remote answer a wait ended: named in every timeout and lost connection. */
export type RemoteStage =
  | "TCP connect"
  | "SSH handshake"
  | "SSH authentication"
  | "channel open"
  | "command"
  | "forwarded stream"
  | "XAPI call";

/** An SSH connection could not be made, or dropped: names the action, the target and the stage. */
export class SshConnectionError extends Error {
  override readonly name = "SshConnectionError";
  /** The stage the wait ended in, when known. */
  readonly stage: RemoteStage | undefined;

  constructor(
    readonly code: "SSH_CONNECT_FAILED" | "SSH_CONNECTION_LOST" | "SSH_CHANNEL_FAILED" | "SSH_TIMEOUT",
    message: string,
    options?: { cause?: unknown; stage?: RemoteStage },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.stage = options?.stage;
  }
}
