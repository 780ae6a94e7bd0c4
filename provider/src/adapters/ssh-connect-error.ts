/** An SSH connection could not be made, or dropped: names the action and the target. */
export class SshConnectionError extends Error {
  override readonly name = "SshConnectionError";

  constructor(
    readonly code: "SSH_CONNECT_FAILED" | "SSH_CONNECTION_LOST" | "SSH_CHANNEL_FAILED" | "SSH_TIMEOUT",
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}
