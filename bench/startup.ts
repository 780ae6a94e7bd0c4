// Start-up cost of the provider, per operation, measured two ways; both end at the first byte the
// provider sends to SSH (caught by a local TCP listener that stands for the host's sshd), or at
// the preview's end (configure, check, diff):
// - in the host: in the real dynamic-provider host, from the engine's first call of the operation
//   (startup-in-host.ts). The host's own start (Node, @pulumi/pulumi, gRPC) comes before any call
//   and is printed apart; this is the wait our code adds to an operation.
// - alone: in a bare node process that loads the real serialized provider (the `__provider`
//   string of a PassthroughDisk) as the host does and calls one method, from the process's start.
//   It also loads the Node modules the host would have loaded already, and reports CPU time.
//
// Program directories given run interleaved (A, B, A, B...) so a loaded machine skews them alike;
// each resolves pulumi-xen-passthrough from its own node_modules, as under `pulumi up`.
// Usage: node bench/dist/startup.js [--runs N] [--json] [programDir ...]
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { REPO_ROOT, serializedProvider } from "./provider-host";
import { OPERATIONS, sampleInHost, type InHostSample, type Operation } from "./startup-in-host";

/** Inputs whose SSH connection points at `port` on this machine; the key is throw-away. */
function inputsFor(port: number, keys: ThrowAwayKeys): Record<string, unknown> {
  return {
    // The host key is checked only after the key exchange, long after the first byte.
    connection: { host: "127.0.0.1", port, privateKey: keys.privateKey, hostKey: keys.hostKey },
    disk: { serial: "S3Z1NB0K123456X" },
    vm: { nameLabel: "nas" },
  };
}

interface ThrowAwayKeys {
  readonly privateKey: string;
  readonly hostKey: string;
}

/** An ed25519 key pair in OpenSSH form, as users hand it over; the public half stands for the host key. */
function throwAwayKeys(): ThrowAwayKeys {
  const dir = mkdtempSync(join(tmpdir(), "startup-bench-"));
  try {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "key")]);
    return {
      privateKey: readFileSync(join(dir, "key"), "utf8"),
      hostKey: readFileSync(join(dir, "key.pub"), "utf8").trim(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The child's script: load the provider as the host does, run one operation. */
function childScript(
  provider: string,
  operation: Operation,
  inputs: Record<string, unknown>,
  port: number,
): string {
  const props = { ...inputs, __provider: provider };
  return `
    const report = (fields) => require("node:fs").writeSync(3, JSON.stringify(fields) + "\\n");
    // Node's own start ends here, at the script's first line: the same for any program.
    report({ origin: performance.timeOrigin, nodeStart: performance.now() });
    // CPU time of this process (a loaded machine stretches wall time, much less CPU time): when it
    // opens the TCP connection to the SSH port, at its first write there, or at the preview's end.
    const cpuMs = () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; };
    const { connect, write } = require("node:net").Socket.prototype;
    require("node:net").Socket.prototype.connect = function (...args) {
      const first = Array.isArray(args[0]) ? args[0][0] : args[0]; // net.connect passes its normalized arguments
      const port = typeof first === "object" ? first.port : first;
      if (Number(port) === ${port}) report({ connectCpu: cpuMs() });
      return connect.apply(this, args);
    };
    require("node:net").Socket.prototype.write = function (...args) {
      if (this.remotePort === ${port} && !this.reported) report({ cpu: cpuMs() });
      this.reported = true;
      return write.apply(this, args);
    };
    const requireFromString = require(${JSON.stringify(require.resolve("require-from-string"))});
    const props = ${JSON.stringify(props)};
    const p = requireFromString(props.__provider).handler();
    const calls = {
      preview: async () => {
        await p.configure({ config: { get: () => undefined } });
        const { inputs } = await p.check({}, props);
        await p.diff("id", inputs, inputs);
      },
      create: () => p.create(props),
      read: () => p.read("id", props),
      update: () => p.update("id", props, props),
      delete: () => p.delete("id", props),
    };
    calls[${JSON.stringify(operation)}]().then(
      () => report({ done: performance.timeOrigin + performance.now(), cpu: cpuMs() }),
      (error) => report({ error: String(error).split("\\n")[0] }),
    );`;
}

/** The listener that stands for sshd: records when the first byte of any connection arrives. */
async function sshStandIn(): Promise<{
  port: number;
  firstByte: () => number | undefined;
  close: () => void;
}> {
  let first: number | undefined;
  const server = createServer((socket) => {
    socket.once("data", () => {
      first ??= performance.timeOrigin + performance.now();
      socket.destroy();
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the SSH stand-in has no TCP port");
  return { port: address.port, firstByte: () => first, close: () => server.close() };
}

/** Wall and CPU ms of one fresh process from its start to the preview's end or to the first SSH byte. */
async function sampleAlone(
  programDir: string,
  provider: string,
  operation: Operation,
  keys: ThrowAwayKeys,
): Promise<Sample> {
  const ssh = await sshStandIn();
  try {
    const script = childScript(provider, operation, inputsFor(ssh.port, keys), ssh.port);
    const child = spawn(process.execPath, ["-e", script], {
      cwd: programDir,
      stdio: ["ignore", "ignore", "inherit", "pipe"],
    });
    const lines: Record<string, unknown>[] = [];
    let buffered = "";
    const reports = child.stdio[3];
    if (reports === null || reports === undefined || !("on" in reports))
      throw new Error("the start-up probe has no report pipe");
    reports.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const part of parts) lines.push(JSON.parse(part) as Record<string, unknown>);
    });
    const ended = new Promise<void>((resolve) => child.on("close", () => resolve()));
    // Wait for the preview's end, the first SSH byte, or an error; then stop the child.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const cpuSeen = lines.some((l) => "cpu" in l);
      if ((ssh.firstByte() !== undefined && cpuSeen) || lines.some((l) => "done" in l || "error" in l)) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    child.kill("SIGKILL");
    await ended;
    const origin = lines.find((l) => "origin" in l)?.["origin"];
    if (typeof origin !== "number") throw new Error(`${operation}: the probe reported no start time`);
    const failed = lines.find((l) => typeof l["error"] === "string")?.["error"] as string | undefined;
    const end = operation === "preview" ? lines.find((l) => "done" in l)?.["done"] : ssh.firstByte();
    if (typeof end !== "number")
      throw new Error(
        `${operation} in ${programDir} never reached its mark${failed === undefined ? "" : `: ${failed}`}`,
      );
    const cpu = lines.find((l) => typeof l["cpu"] === "number")?.["cpu"] as number | undefined;
    if (cpu === undefined) throw new Error(`${operation}: the probe reported no CPU time`);
    const connectCpu = lines.find((l) => typeof l["connectCpu"] === "number")?.["connectCpu"] as
      number | undefined;
    const nodeStart = lines.find((l) => typeof l["nodeStart"] === "number")?.["nodeStart"] as number;
    return { wall: end - origin, nodeStart, cpu, ...(connectCpu === undefined ? {} : { connectCpu }) };
  } finally {
    ssh.close();
  }
}

interface Sample {
  readonly wall: number;
  /** ms from the process's start to its first line of script (Node's own start). */
  readonly nodeStart: number;
  readonly cpu: number;
  /** CPU ms when the provider opened its TCP connection to SSH (the host starts its work then). */
  readonly connectCpu?: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** One sample in the real host: a fresh host, one operation, its own SSH stand-in. */
async function sampleHost(
  programDir: string,
  provider: string,
  operation: Operation,
  keys: ThrowAwayKeys,
): Promise<InHostSample> {
  const ssh = await sshStandIn();
  try {
    const props = { ...inputsFor(ssh.port, keys), __provider: provider };
    return await sampleInHost(programDir, operation, props, ssh.firstByte);
  } finally {
    ssh.close();
  }
}

interface Samples {
  readonly alone: Map<Operation, Sample[]>;
  readonly inHost: Map<Operation, InHostSample[]>;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 9;
  const jsonAt = args.indexOf("--json");
  const json = jsonAt >= 0 && args.splice(jsonAt, 1).length > 0;
  const programDirs = args.length > 0 ? args : [REPO_ROOT];
  const provider = await serializedProvider();
  const keys = throwAwayKeys();
  const samples: Samples[] = programDirs.map(() => ({
    alone: new Map(OPERATIONS.map((op) => [op, []])),
    inHost: new Map(OPERATIONS.map((op) => [op, []])),
  }));
  for (let i = 0; i < runs; i++) {
    for (const operation of OPERATIONS) {
      for (const [k, dir] of programDirs.entries()) {
        samples[k]?.inHost.get(operation)?.push(await sampleHost(dir, provider, operation, keys));
        samples[k]?.alone.get(operation)?.push(await sampleAlone(dir, provider, operation, keys));
      }
    }
  }
  if (json) {
    const out = programDirs.map((dir, k) => ({
      programDir: dir,
      inHost: Object.fromEntries(samples[k]?.inHost ?? []),
      alone: Object.fromEntries(samples[k]?.alone ?? []),
    }));
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  const figures = (xs: number[]) =>
    xs.length === 0
      ? "-".padStart(9)
      : `${median(xs).toFixed(0).padStart(4)}/${Math.min(...xs)
          .toFixed(0)
          .padEnd(4)}`;
  console.log(
    `${runs} runs, interleaved; ms, median/min. in the host: the real dynamic-provider host, from the engine's ` +
      `first call of the operation to the first SSH byte (to the preview's end); host start: its own start ` +
      `before that call (Node, @pulumi/pulumi, gRPC; not ours). alone: a bare node process, from its start; ` +
      `node: of which Node's own start; after node: the rest; cpu: its CPU time until the mark; dial cpu: ` +
      `its CPU time when it opened the TCP connection`,
  );
  for (const [k, dir] of programDirs.entries()) {
    console.log(
      `${dir}\n            in the host           alone\n` +
        `            ours       host start wall       node       after node cpu        dial cpu`,
    );
    for (const operation of OPERATIONS) {
      const inHost = samples[k]?.inHost.get(operation) ?? [];
      const xs = samples[k]?.alone.get(operation) ?? [];
      const dial = xs.flatMap((x) => (x.connectCpu === undefined ? [] : [x.connectCpu]));
      console.log(
        `  ${operation.padEnd(8)}  ${figures(inHost.map((x) => x.ours))}  ${figures(inHost.map((x) => x.hostStart))}  ` +
          `${figures(xs.map((x) => x.wall))}  ${figures(xs.map((x) => x.nodeStart))}  ` +
          `${figures(xs.map((x) => x.wall - x.nodeStart))}  ${figures(xs.map((x) => x.cpu))}  ${figures(dial)}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
