// The scripts RemoteHost sends, run here by a local bash exactly as sshd would run them:
// the fixed command line, then the framed script and its stdin on stdin.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ABSENT_EXIT_CODE,
  BOOTSTRAP_COMMAND,
  framedStdin,
  readFileScript,
  TIMED_OUT_EXIT_CODE,
  writeFileAtomicScript,
} from "#provider/adapters/remote-script.js";
import { firstLine } from "#provider/adapters/index.js";

function runLikeSshd(
  script: string,
  stdin?: string,
  timeoutMs?: number,
): { stdout: string; stderr: string; code: number } {
  const result = spawnSync("/bin/sh", ["-c", BOOTSTRAP_COMMAND], {
    input: framedStdin(script, stdin, timeoutMs),
  });
  return { stdout: result.stdout.toString(), stderr: result.stderr.toString(), code: result.status ?? -1 };
}

/** Whether a process runs; a killed one may stay a zombie until its (new) parent reaps it. */
function eventuallyStopped(pid: number): boolean {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (!isRunning(pid)) return true;
    execFileSync("sleep", ["0.02"]);
  }
  return false;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const status = existsSync(`/proc/${pid}/status`) ? readFileSync(`/proc/${pid}/status`, "utf8") : "";
  return !/^State:\s+Z/m.test(status);
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xp-adapters-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the bootstrap command", () => {
  it("runs the script and gives it the rest of stdin", () => {
    const result = runLikeSshd('read -r line; echo "got $line"; echo oops >&2; exit 7', "hello\n");
    expect(result).toEqual({ stdout: "got hello\n", stderr: "oops\n", code: 7 });
  });

  it("keeps quotes, $-expressions, multi-byte text and trailing newlines of the script intact", () => {
    const script = `printf '%s|' 'it'"'"'s' "é€" '$(no)'\n\n\n`;
    expect(runLikeSshd(script).stdout).toBe("it's|é€|$(no)|");
  });

  it("never puts the script on a command line, not even the inner bash's argv", () => {
    expect(BOOTSTRAP_COMMAND).not.toContain("echo");
    expect(framedStdin("echo x", undefined).toString()).toBe("6 0\necho x");
    expect(runLikeSshd("cat /proc/$$/cmdline | tr '\\0' ' '").stdout).toBe(
      "bash --norc --noprofile /dev/fd/3 ",
    );
  });

  it("stops a script and everything it started when the timeout expires (exit 124)", () => {
    const result = runLikeSshd("sleep 60 & echo $!; wait; echo not reached", undefined, 300);
    expect(result.code).toBe(TIMED_OUT_EXIT_CODE);
    const background = Number(result.stdout.trim());
    expect(background).toBeGreaterThan(0);
    // The kill is delivered before `timeout` exits, but the process may take a moment to die.
    expect(eventuallyStopped(background)).toBe(true);
  });

  it("lets a script that finishes in time exit normally", () => {
    expect(runLikeSshd("echo quick; exit 3", undefined, 10_000)).toMatchObject({
      stdout: "quick\n",
      code: 3,
    });
    expect(framedStdin("true", undefined, 1_500).toString()).toBe("4 1.5\ntrue");
  });

  it("gives a script no stdin when none is given", () => {
    expect(runLikeSshd("cat; echo end").stdout).toBe("end\n");
  });
});

describe("readFileScript", () => {
  it("prints an existing file, and exits with the absent code for a missing one", () => {
    const path = join(dir, "it's here");
    writeFileSync(path, "content\n");
    expect(runLikeSshd(readFileScript(path))).toMatchObject({ stdout: "content\n", code: 0 });
    expect(runLikeSshd(readFileScript(join(dir, "missing"))).code).toBe(ABSENT_EXIT_CODE);
  });
});

describe("writeFileAtomicScript", () => {
  it("writes stdin with the mode, leaving no temp file", () => {
    const path = join(dir, "65-xen-passthrough-a.rules");
    expect(runLikeSshd(writeFileAtomicScript(path, 0o600), "rule\n").code).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("rule\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["65-xen-passthrough-a.rules"]);
  });

  it("fails without touching anything when the directory does not exist", () => {
    const result = runLikeSshd(writeFileAtomicScript(join(dir, "no", "file"), 0o644), "x");
    expect(result.code).not.toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses an impossible mode", () => {
    expect(() => writeFileAtomicScript("/tmp/x", 0o10000)).toThrow("invalid file mode");
  });
});

describe("firstLine", () => {
  it("names a script by its first command, skipping blank and comment lines", () => {
    expect(firstLine("\n# why\n  udevadm trigger --action=change /dev/sdb\nudevadm settle")).toBe(
      "udevadm trigger --action=change /dev/sdb",
    );
  });
});
