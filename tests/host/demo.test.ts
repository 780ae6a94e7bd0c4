// Host tier: `npm run demo` (the README's first command) runs every step against the sandbox,
// exits 0 and leaves nothing behind; Ctrl-C stops it cleanly; without root it says why.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const REPO_ROOT = join(__dirname, "..", "..", "..");
const DEMO = join(REPO_ROOT, "examples", "demo", "dist", "index.js");

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The sandbox's state directory, as the demo printed it. */
  readonly stateDir: string;
  /** Descendants of the demo (pid -> start time) while it ran, the sandbox's processes included. */
  readonly processes: ReadonlyMap<number, string>;
}

function tryRead(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** pid -> [parent pid, start time]: the start time tells a process from a later one with its pid. */
function processTable(): Map<number, [number, string]> {
  const table = new Map<number, [number, string]>();
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    const stat = tryRead(`/proc/${entry}/stat`);
    const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields !== undefined) table.set(Number(entry), [Number(fields[1]), fields[19] ?? ""]);
  }
  return table;
}

function descendantsOf(root: number): Map<number, string> {
  const table = processTable();
  const found = new Map<number, string>();
  for (const [pid, [, startTime]] of table) {
    for (
      let parent = table.get(pid)?.[0];
      parent !== undefined && parent > 1;
      parent = table.get(parent)?.[0]
    ) {
      if (parent === root) {
        found.set(pid, startTime);
        break;
      }
    }
  }
  return found;
}

/**
 * Runs the command; once `snapshotAfter` is printed (everything is up by then) records the
 * demo's descendants; sends `signal` once `signalAfter` is printed.
 */
async function runDemo(
  command: readonly [string, ...string[]],
  options: { snapshotAfter: string; signalAfter?: string; signal?: NodeJS.Signals },
): Promise<Run> {
  const child = spawn(command[0], command.slice(1), { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let processes = new Map<number, string>();
  let signalled = false;
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (processes.size === 0 && stdout.includes(options.snapshotAfter)) processes = descendantsOf(child.pid!);
    if (!signalled && options.signalAfter !== undefined && stdout.includes(options.signalAfter)) {
      signalled = true;
      child.kill(options.signal ?? "SIGINT");
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  const stateDir = /state in (\S+)/.exec(stdout)?.[1] ?? "";
  return { code, stdout, stderr, stateDir, processes };
}

function expectNothingLeft(run: Run): void {
  expect(run.stateDir).toMatch(/^\/tmp\/xen-sandbox-/);
  expect(run.processes.size).toBeGreaterThanOrEqual(3); // at least the sandbox holder, udevd and sshd
  const table = processTable();
  const alive = [...run.processes].filter(([pid, startTime]) => table.get(pid)?.[1] === startTime);
  expect(alive).toEqual([]);
  const loops = readdirSync("/sys/block").filter((name) => name.startsWith("loop"));
  const backing = loops.map((name) => tryRead(`/sys/block/${name}/loop/backing_file`) ?? "");
  expect(backing.filter((file) => file.startsWith(run.stateDir))).toEqual([]);
  expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(run.stateDir);
  expect(existsSync(run.stateDir)).toBe(false);
}

const HEADINGS = [
  "Previewing update (sandbox):",
  "Updating (sandbox):",
  "Meanwhile, behind Pulumi's back:",
  "Refreshing (sandbox):",
  "Destroying (sandbox):",
];

test("npm run demo: preview, up, drift, refresh, repair, destroy; exit 0, nothing left", async () => {
  const run = await runDemo(["npm", "run", "--silent", "demo"], { snapshotAfter: "Previewing update" });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
  let at = -1;
  for (const heading of HEADINGS) {
    const next = run.stdout.indexOf(heading, at + 1);
    expect({ heading, found: next > at }).toEqual({ heading, found: true });
    at = next;
  }
  expect(run.stdout.split("Updating (sandbox):")).toHaveLength(3); // up, then the repairing up

  const creates = run.stdout.match(/^ {4}\+ pulumi-xen-passthrough:PassthroughDisk disk-\S+ create$/gm) ?? [];
  expect(creates).toHaveLength(2);
  expect(run.stdout).toContain("+ 2 to create");
  expect(run.stdout).toMatch(/Host untouched: 0 XAPI calls .*, 0 new SSH connections, 0 new SSH sessions\./);
  expect(run.stdout).toMatch(/^ {4}\+ \S+ disk-\S+ created \(\d+\.\d\ds\)$/m);
  expect(run.stdout).toMatch(/device +: "xvd[b-z]"/);
  expect(run.stdout).toContain("+ 2 created");

  const unplugged = /VBD (\S+) of (disk-\S+) unplugged/.exec(run.stdout);
  expect(unplugged).not.toBeNull();
  const [, vbd, name] = unplugged!;
  expect(run.stdout).toContain(
    `~ pulumi-xen-passthrough:PassthroughDisk ${name} refresh [drift: the VBD was unplugged]`,
  );
  expect(run.stdout).toContain(
    `~ pulumi-xen-passthrough:PassthroughDisk ${name} updated [drift: the VBD was unplugged]`,
  );
  expect(run.stdout).toContain(`VBD ${vbd} is attached again.`);
  expect(run.stdout).toContain("- 2 deleted");
  expect(run.stdout).toContain(
    "Left on the host: 0 passthrough VBDs, 0 udev rules or /dev/xapi/block links.",
  );
  expect(run.stdout).toMatch(/Demo complete in \d+\.\d\ds\.\n$/);
  process.stdout.write(`${run.stdout.match(/^Demo complete.*$/m)?.[0] ?? ""}\n`);
  expectNothingLeft(run);
});

test("Ctrl-C in the middle stops the sandbox and removes everything", async () => {
  const run = await runDemo([process.execPath, DEMO], {
    snapshotAfter: "Previewing update",
    signalAfter: "Meanwhile, behind Pulumi's back:",
  });
  expect(run.code).toBe(130);
  expect(run.stderr).toContain("SIGINT: stopping the sandbox and removing everything it made...");
  expect(run.stdout).not.toContain("Destroying (sandbox):");
  expectNothingLeft(run);
});

test("without root it says why it cannot run and what to do, and exits 1", async () => {
  // As nobody, but able to read the checkout wherever it is (a fresh clone may sit in a 0700 dir).
  const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] as const;
  const readAnywhere = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"] as const;
  const run = await runDemo([...nobody, ...readAnywhere, process.execPath, DEMO], {
    snapshotAfter: "never printed",
  });
  expect(run.code).toBe(1);
  expect(run.stdout).toBe("");
  expect(run.stderr).toContain("npm run demo cannot run here");
  expect(run.stderr).toContain("root (run it with sudo or as root)");
  expect(run.stderr).toContain("sudo npm run demo");
});
