// SSH exec faults with the real sshd: a ForceCommand wrapper numbers every session (exec, shell,
// subsystem; forwarding channels are no sessions) and, when told to, fails one session once or
// holds it until released (so a test can cut the connection while an exec is running).
// Everything lives in a directory of the sandbox's state dir, which dom0 sees at the same path.
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The exit status of an injected failure: what ssh reports when the session itself fails. */
export const INJECTED_EXIT_CODE = 255;

/** Pure: the wrapper sshd runs as ForceCommand; `dir` holds the counter and the orders. */
export function renderExecFaultWrapper(dir: string): string {
  return [
    "#!/bin/sh",
    `dir='${dir}'`,
    // flock: sessions of concurrent operations must each get their own number.
    `n=$(flock "$dir/lock" sh -c 'n=$(( $(cat "$1/count") + 1 )); echo "$n" > "$1/count"; echo "$n"' sh "$dir")`,
    'if [ -e "$dir/fail-$n" ]; then',
    '  rm -f "$dir/fail-$n"',
    '  echo "xen-sandbox: injected failure of SSH session $n" >&2',
    `  exit ${INJECTED_EXIT_CODE}`,
    "fi",
    'if [ -e "$dir/hold-$n" ]; then',
    '  : > "$dir/held-$n"',
    // Bounded: a hold nobody releases (or cuts) ends after 30 s and the command runs.
    "  i=0",
    '  while [ ! -e "$dir/release-$n" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done',
    "fi",
    'if [ -z "$SSH_ORIGINAL_COMMAND" ]; then exec "${SHELL:-/bin/sh}" -l; fi',
    'exec "${SHELL:-/bin/sh}" -c "$SSH_ORIGINAL_COMMAND"',
    "",
  ].join("\n");
}

/** Orders for the sessions sshd starts from now on; "the next session" is number 1. */
export interface ExecFaults {
  /** The program to give sshd as ForceCommand. */
  readonly wrapperPath: string;
  /** Sessions started so far (since the sandbox started). */
  started(): Promise<number>;
  /** The `nth` session from now fails once (exit 255, a message on stderr), before its command runs. */
  failSession(nth: number): Promise<void>;
  /** The `nth` session from now waits before its command runs; resolves its absolute number. */
  holdSession(nth: number): Promise<number>;
  /** True once the held session `absolute` is waiting. */
  isHeld(absolute: number): Promise<boolean>;
  /** Lets every held session run, and forgets every order not yet carried out. */
  clear(): Promise<void>;
}

export async function createExecFaults(stateDir: string): Promise<ExecFaults> {
  const dir = join(stateDir, "exec-faults");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "count"), "0\n");
  await writeFile(join(dir, "lock"), "");
  const wrapperPath = join(dir, "wrapper.sh");
  await writeFile(wrapperPath, renderExecFaultWrapper(dir), { mode: 0o755 });
  const started = async () => Number((await readFile(join(dir, "count"), "utf8")).trim());
  return {
    wrapperPath,
    started,
    async failSession(nth) {
      await writeFile(join(dir, `fail-${(await started()) + nth}`), "");
    },
    async holdSession(nth) {
      const absolute = (await started()) + nth;
      await writeFile(join(dir, `hold-${absolute}`), "");
      return absolute;
    },
    async isHeld(absolute) {
      return (await readdir(dir)).includes(`held-${absolute}`);
    },
    async clear() {
      const orders = (await readdir(dir)).filter((name) => /^(fail|hold|held)-\d+$/.test(name));
      for (const name of orders.filter((order) => order.startsWith("hold-"))) {
        await writeFile(join(dir, name.replace("hold-", "release-")), "");
      }
      await Promise.all(
        orders.filter((name) => !name.startsWith("hold-")).map((name) => rm(join(dir, name))),
      );
    },
  };
}
