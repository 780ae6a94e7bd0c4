/** A remote script exited non-zero: carries its first line, exit code and combined output. */
export class RemoteCommandError extends Error {
  override readonly name = "RemoteCommandError";
  readonly code = "REMOTE_COMMAND_FAILED";

  constructor(
    readonly target: string,
    readonly command: string,
    readonly exitCode: number,
    readonly output: string,
  ) {
    super(
      `command \`${command}\` failed on ${target} with exit code ${exitCode}: ${output.trim() || "(no output)"}`,
    );
  }
}

/** The first non-empty, non-comment line of a script: how errors name it. */
export function firstLine(script: string): string {
  const line = script
    .split("\n")
    .find((candidate) => candidate.trim() !== "" && !candidate.trim().startsWith("#"));
  return (line ?? "").trim();
}
