import { execFile } from "node:child_process";

import { SandboxError } from "./errors";

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; a non-zero exit becomes COMMAND_FAILED with its output. */
export function run(file: string, args: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: "utf8", maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ stdout, stderr });
        return;
      }
      const command = [file, ...args].join(" ");
      const output = `${stdout}${stderr}`.trim();
      reject(
        new SandboxError(
          "COMMAND_FAILED",
          { command, output },
          `command failed: ${command}: ${output === "" ? error.message : output}`,
          { cause: error },
        ),
      );
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The argument list that runs a program inside the mount namespace held by `holderPid`. */
export function nsenterArgs(holderPid: number, file: string, args: readonly string[]): string[] {
  return ["-t", String(holderPid), "-m", "--", file, ...args];
}

/** Runs a program inside the mount namespace held by `holderPid`. */
export function runIn(holderPid: number, file: string, args: readonly string[]): Promise<RunResult> {
  return run("nsenter", nsenterArgs(holderPid, file, args));
}

/** What a shell command in dom0 printed, and its exit code. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs a shell command in the namespace with `env`; never rejects on a non-zero exit. */
export function shellIn(
  holderPid: number,
  command: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      "nsenter",
      nsenterArgs(holderPid, "/bin/sh", ["-c", command]),
      { encoding: "utf8", env, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ stdout, stderr, exitCode });
      },
    );
  });
}
