import { spawn } from "node:child_process";
import { readFile, readdir, readlink } from "node:fs/promises";
import { posix } from "node:path";

import type { BootUnitRun } from "../xapi";
import type { BootUnit } from "./boot-units";
import {
  MULTI_USER_WANTS,
  SYSTEMD_SERVICE_PATH,
  bootUnitOf,
  orderBootUnits,
  parseExecStart,
  runsBetweenInitAndDomains,
} from "./boot-units";
import type { Namespace } from "./namespace";
import { nsenterArgs } from "./run";

/**
 * The enabled units of dom0 ordered After=xapi-init-complete.target and Before=xapi-domains.service,
 * read afresh as systemd does at boot: every link in multi-user.target.wants whose target exists
 * (a dangling link is ignored), in the order they must run. Nothing is special-cased by name.
 */
export async function enabledBootUnits(namespace: Namespace): Promise<BootUnit[]> {
  const wants = namespace.outside(MULTI_USER_WANTS);
  const names = await readdir(wants).catch(() => [] as string[]);
  const units: BootUnit[] = [];
  for (const name of names) {
    const link = await readlink(`${wants}/${name}`).catch(() => undefined);
    // An absolute target is a path inside dom0; a relative one is relative to the wants directory.
    const target = link === undefined ? `${MULTI_USER_WANTS}/${name}` : posix.resolve(MULTI_USER_WANTS, link);
    const text = await readFile(namespace.outside(target), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const unit = bootUnitOf(name, text);
    if (runsBetweenInitAndDomains(unit)) units.push(unit);
  }
  return orderBootUnits(units);
}

/**
 * Runs one program in dom0 with a service's clean environment; output in arrival order. Killed
 * after `timeoutMs` (the unit's start timeout; undefined: never).
 */
function runProgram(
  namespace: Namespace,
  argv: readonly string[],
  timeoutMs: number | undefined,
): Promise<{ exitCode: number; output: string }> {
  const [program = "", ...args] = argv;
  return new Promise((resolve) => {
    const child = spawn("nsenter", nsenterArgs(namespace.holderPid, program, args), {
      // systemd starts services with an empty environment plus its own default PATH.
      env: { PATH: SYSTEMD_SERVICE_PATH, LANG: "C" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const collect = (chunk: Buffer) => (output += chunk.toString("utf8"));
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            output += `\n(killed: no exit within ${timeoutMs / 1000} s, systemd's start timeout)\n`;
            child.kill("SIGKILL");
          }, timeoutMs);
    child.on("error", (error) => (output += `${error.message}\n`));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (signal === null ? 1 : 128 + 9), output });
    });
  });
}

/** 203 is systemd's EXIT_EXEC: the program could not be started as written. */
const EXIT_EXEC = 203;

/**
 * Runs each unit's ExecStart= lines in turn, as a oneshot service does: the first failure that
 * is not "-"-prefixed ends the unit with its exit code. A failed unit does not stop the boot
 * (nothing Requires= it): the next unit runs.
 */
export async function runBootUnits(namespace: Namespace, units: readonly BootUnit[]): Promise<BootUnitRun[]> {
  const runs: BootUnitRun[] = [];
  for (const unit of units) {
    let exitCode = 0;
    let output = "";
    for (const line of unit.execStart) {
      const command = parseExecStart(line);
      if ("error" in command) {
        exitCode = EXIT_EXEC;
        output += `${command.error}\n`;
        break;
      }
      const result = await runProgram(namespace, command.argv, unit.startTimeoutMs);
      output += result.output;
      if (result.exitCode !== 0 && !command.ignoreFailure) {
        exitCode = result.exitCode;
        break;
      }
    }
    runs.push({ unit: unit.name, exitCode, output });
  }
  return runs;
}
