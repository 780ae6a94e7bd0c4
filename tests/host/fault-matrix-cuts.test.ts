// The fault matrix, part two: the SSH connection cut at each protocol stage (a moment into the
// key exchange, right after authentication, during an exec, during a forwarded XAPI call) for
// create, update, delete and read. A TCP proxy between the provider and the real sshd cuts on
// command. After each cut: the operation fails with a clear error or succeeds (never hangs: each
// test's bound is Jest's timeout), and a retry converges with nothing leaked, nothing duplicated.
import type { CutProxy } from "xen-sandbox";
import { startCutProxy } from "xen-sandbox";
import type { Stored } from "../support/engine";
import { useEngine } from "../support/engine";
import type { MatrixWorld, Operation } from "../support/fault-matrix";
import {
  OPERATIONS,
  PV_GUESTS,
  convergenceProblems,
  diskSteps,
  messageOf,
  tearDown,
  until,
} from "../support/fault-matrix";
import { useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 1, execFaults: true, model: PV_GUESTS });
const engine = useEngine();

let proxy: CutProxy | undefined;
beforeAll(async () => {
  proxy = await startCutProxy({ host: sandbox().ssh.host, port: sandbox().ssh.port });
});
afterAll(async () => {
  await proxy?.stop();
});

function cutProxy(): CutProxy {
  if (proxy === undefined) throw new Error("the cut proxy did not start");
  return proxy;
}

function world(): MatrixWorld {
  const disk = sandbox().disks.find((d) => !d.inUse);
  if (disk === undefined) throw new Error("the sandbox has no free disk");
  return { sandbox: sandbox(), engine: engine(), serial: disk.serial, port: cutProxy().port };
}

function execFaults() {
  const faults = sandbox().execFaults;
  if (faults === undefined) throw new Error("the sandbox was started without exec faults");
  return faults;
}

/** A stage to cut at: `arm` runs before the operation, `cut` alongside it (it waits for its moment). */
interface Stage {
  readonly name: string;
  arm(): void;
  cut(): Promise<void>;
}

const STAGES: readonly Stage[] = [
  {
    name: "during the handshake",
    arm() {
      cutProxy().cutNow(); // the cached connection goes: the operation must dial
      cutProxy().cutNextHandshake();
    },
    async cut() {},
  },
  {
    name: "right after authentication",
    arm() {
      cutProxy().cutNow();
    },
    async cut() {
      const before = sandbox().sshConnections();
      await until(() => sandbox().sshConnections() > before);
      cutProxy().cutNow();
    },
  },
  {
    name: "during an exec",
    arm() {},
    async cut() {
      const held = await execFaults().holdSession(1);
      await until(() => execFaults().isHeld(held));
      cutProxy().cutNow();
    },
  },
  {
    name: "during a forwarded XAPI call",
    arm() {},
    async cut() {
      const { faults } = sandbox().simulator.control;
      const rule = faults.add({ method: "*", count: 1, action: "delay-only", delayMs: 5_000 });
      await until(() => (faults.list().find((r) => r.id === rule.id)?.hits ?? 0) === 1);
      cutProxy().cutNow();
    },
  },
];

async function runCase(operation: Operation, stage: Stage): Promise<string[]> {
  const w = world();
  const { setUp, perform, retry } = diskSteps(w);
  const before = await setUp(operation);
  stage.arm();
  const cutsBefore = cutProxy().cuts();
  const problems: string[] = [];
  const cutting = stage.cut();
  let after: Stored | undefined;
  try {
    after = await perform(operation, before);
  } catch (error) {
    const message = messageOf(error);
    if (!/ssh|connection|127\.0\.0\.1|closed|reset/i.test(message))
      problems.push(`unclear failure: ${message}`);
    after = await retry(operation, before, error).catch((retryError: unknown) => {
      problems.push(`the retry failed too: ${messageOf(retryError)}`);
      return undefined;
    });
  }
  await cutting;
  if (cutProxy().cuts() === cutsBefore) problems.push("no connection was cut");
  sandbox().simulator.control.faults.clear();
  await execFaults().clear();
  if (problems.length === 0) problems.push(...(await convergenceProblems(w, operation, after)));
  const held = operation === "delete" ? undefined : after;
  problems.push(...(await tearDown(w, held).catch((e: unknown) => [`teardown: ${messageOf(e)}`])));
  return problems.map((problem) => `${operation}, cut ${stage.name}: ${problem}`);
}

describe.each(OPERATIONS)("%s", (operation) => {
  test.each(STAGES.map((stage) => [stage.name, stage] as const))(
    `the SSH connection cut %s: a clear failure or success, then a retry converges`,
    async (_name, stage) => {
      expect(await runCase(operation, stage)).toEqual([]);
    },
    60_000,
  );
});
