// The fault matrix, part one: for create, update, delete and read, every XAPI call and every SSH
// exec of a normal run, in turn made to fail once. The calls come from a recorded normal run (the
// simulator's call trace, the sandbox sshd's session count), not from a list kept here. After
// each fault: the operation fails with a clear error or succeeds, and a retry converges with
// nothing leaked and nothing duplicated. The host tier: real sshd (its ForceCommand wrapper fails
// the chosen session), real udevd and loop disks, the real dynamic-provider host.
import type { Stored } from "../support/engine";
import { useEngine } from "../support/engine";
import type { MatrixWorld, Operation } from "../support/fault-matrix";
import {
  OPERATIONS,
  PV_GUESTS,
  convergenceProblems,
  messageOf,
  perform,
  retry,
  setUp,
  tearDown,
} from "../support/fault-matrix";
import { useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 1, execFaults: true, model: PV_GUESTS });
const engine = useEngine();

const INJECTED = "xen-sandbox: injected fault";

function world(): MatrixWorld {
  const disk = sandbox().disks.find((d) => !d.inUse);
  if (disk === undefined) throw new Error("the sandbox has no free disk");
  return { sandbox: sandbox(), engine: engine(), serial: disk.serial };
}

function execFaults() {
  const faults = sandbox().execFaults;
  if (faults === undefined) throw new Error("the sandbox was started without exec faults");
  return faults;
}

/** One fault of the matrix: armed just before the operation, cleared right after it. */
interface Fault {
  readonly name: string;
  arm(): void | Promise<void>;
  /** Whether the fault actually fired during the operation. */
  fired(): boolean | Promise<boolean>;
  /**
   * Whether the run made the call at all: a run after a fresh login makes the session's own calls
   * (login, pool, listMethods), a run on a kept session does not, and which one a case gets
   * depends on the provider's session upkeep, not on this test.
   */
  reached(): boolean;
  /** Words a failure's message must contain to be a clear report of this fault. */
  readonly clearReport: RegExp;
}

interface Recorded {
  /** Each XAPI call: its method and how many calls of that method came before it. */
  calls: { method: string; ordinal: number }[];
  sessions: number;
}

/** A normal run of the operation, with the calls and sessions it made. */
async function record(operation: Operation): Promise<Recorded> {
  const w = world();
  // Steady state: the provider process keeps its SSH connection and XAPI session across
  // operations, so the first run of a process also logs in; the matrix covers the run after.
  const warm = await setUp(w, "create");
  expect(await tearDown(w, warm)).toEqual([]);
  const before = await setUp(w, operation);
  const control = sandbox().simulator.control;
  control.trace.reset();
  const startedBefore = await execFaults().started();
  const after = await perform(w, operation, before);
  const sessions = (await execFaults().started()) - startedBefore;
  const seen = new Map<string, number>();
  const calls = control.trace.get().calls.map(({ method }) => {
    const ordinal = seen.get(method) ?? 0;
    seen.set(method, ordinal + 1);
    return { method, ordinal };
  });
  expect(await tearDown(w, operation === "delete" ? undefined : after)).toEqual([]);
  return { calls, sessions };
}

function xapiFault(method: string, ordinal: number): Fault {
  const control = sandbox().simulator.control;
  let ruleId = "";
  return {
    name: `XAPI ${method} #${ordinal + 1} fails`,
    arm() {
      control.trace.reset();
      const error = { code: "INTERNAL_ERROR", params: [INJECTED] };
      ruleId = control.faults.add({ method, skip: ordinal, count: 1, action: { error } }).id;
    },
    fired() {
      return (control.faults.list().find((rule) => rule.id === ruleId)?.hits ?? 0) === 1;
    },
    reached: () => (control.trace.get().countsByMethod[method] ?? 0) > ordinal,
    clearReport: new RegExp(`${method.replace(".", "\\.")}|INTERNAL_ERROR`),
  };
}

function execFault(nth: number): Fault {
  let firstSession = 0;
  return {
    name: `SSH exec #${nth} fails`,
    async arm() {
      firstSession = await execFaults().started();
      await execFaults().failSession(nth);
    },
    async fired() {
      return (await execFaults().started()) >= firstSession + nth;
    },
    reached: () => true,
    clearReport: /injected failure of SSH session|255/,
  };
}

/** Cases whose call the run did not make (see Fault.reached); printed, never counted as passed. */
const unreached: string[] = [];

/** Runs one case; returns what went wrong (empty: the case passed). */
async function runCase(operation: Operation, fault: Fault): Promise<string[]> {
  const w = world();
  const before = await setUp(w, operation);
  await fault.arm();
  let after: Stored | undefined;
  const problems: string[] = [];
  let fired: boolean | undefined;
  try {
    after = await perform(w, operation, before);
  } catch (error) {
    const message = messageOf(error);
    if (!fault.clearReport.test(message)) problems.push(`unclear failure: ${message}`);
    fired = await fault.fired();
    sandbox().simulator.control.faults.clear();
    await execFaults().clear();
    after = await retry(w, operation, before, error).catch((retryError: unknown) => {
      problems.push(`the retry failed too: ${messageOf(retryError)}`);
      return undefined;
    });
  }
  fired ??= await fault.fired();
  if (!fired && !fault.reached()) {
    unreached.push(`${operation}, ${fault.name}`);
    fired = true;
  }
  if (!fired) problems.push("the fault never fired: the run differs from the recorded one");
  sandbox().simulator.control.faults.clear();
  await execFaults().clear();
  if (problems.length === 0) problems.push(...(await convergenceProblems(w, operation, after)));
  const held = operation === "delete" ? undefined : after;
  problems.push(...(await tearDown(w, held).catch((e: unknown) => [`teardown: ${messageOf(e)}`])));
  return problems.map((problem) => `${operation}, ${fault.name}: ${problem}`);
}

/**
 * Failures the matrix may find: none. A failure that must be tolerated for a while is listed here
 * exactly (operation, fault, what was left), so a fix shows as a failure that empties the list.
 */
const KNOWN: Record<Operation, RegExp[]> = { create: [], update: [], delete: [], read: [] };

describe.each(OPERATIONS)("%s", (operation) => {
  test(`every XAPI call and every SSH exec of a normal ${operation}, failed once, then a retry converges`, async () => {
    const recorded = await record(operation);
    // A normal run talks to both: otherwise this matrix would test nothing.
    expect(recorded.calls.length).toBeGreaterThan(0);
    expect(recorded.sessions).toBeGreaterThan(0);
    const faults = [
      ...recorded.calls.map(({ method, ordinal }) => xapiFault(method, ordinal)),
      ...Array.from({ length: recorded.sessions }, (_, index) => execFault(index + 1)),
    ];
    const started = Date.now();
    const problems: string[] = [];
    for (const fault of faults) problems.push(...(await runCase(operation, fault)));
    const notReached = unreached.splice(0).filter((name) => name.startsWith(`${operation},`));
    console.log(
      `fault matrix, ${operation}: ${faults.length} cases in ${Date.now() - started} ms` +
        (notReached.length === 0 ? "" : `; call not made, so not tested: ${notReached.join("; ")}`),
    );
    // Only the session's own calls may go unmade (the provider kept its session): never the work.
    expect(
      notReached.filter((name) => !/session\.login|pool\.get_all_records|system\.listMethods/.test(name)),
    ).toEqual([]);
    expect(problems).toEqual(KNOWN[operation].map((known): unknown => expect.stringMatching(known)));
  }, 600_000);
});
