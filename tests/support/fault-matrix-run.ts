// The fault matrix's runner, the same for every resource type: for create, update, delete and
// read, every XAPI call and every SSH exec of a recorded normal run (the simulator's call trace,
// the sandbox sshd's session count), in turn made to fail once; after each fault the operation
// fails with a clear error or succeeds, and a retry converges. What "converged" means on the host
// is the resource type's own (MatrixSubject).
import type { Sandbox } from "xen-sandbox";
import type { Stored } from "./engine";
import type { MatrixSteps, Operation } from "./fault-matrix";
import { OPERATIONS, messageOf } from "./fault-matrix";

/** What the matrix needs of one resource type, in a started sandbox. */
export interface MatrixSubject extends MatrixSteps {
  /** What is wrong after the operation and its retry (empty: nothing). */
  convergenceProblems: (operation: Operation, after: Stored | undefined) => Promise<string[]>;
  /** Removes the resource and says what was left, so the next case starts from nothing. */
  tearDown: (stored: Stored | undefined) => Promise<string[]>;
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

const INJECTED = "xen-sandbox: injected fault";

/**
 * Declares one test per operation. `known`: failures the matrix may find, listed exactly
 * (operation, fault, what was left), so a fix shows as a failure that empties the list.
 */
export function describeFaultMatrix(
  title: string,
  sandbox: () => Sandbox,
  subject: () => MatrixSubject,
  known: Record<Operation, readonly RegExp[]> = { create: [], update: [], delete: [], read: [] },
): void {
  const execFaults = () => {
    const faults = sandbox().execFaults;
    if (faults === undefined) throw new Error("the sandbox was started without exec faults");
    return faults;
  };

  /** A normal run of the operation, with the calls and sessions it made. */
  async function record(operation: Operation) {
    const it = subject();
    // Steady state: the provider process keeps its SSH connection and XAPI session across
    // operations, so the first run of a process also logs in; the matrix covers the run after.
    expect(await it.tearDown(await it.setUp("create"))).toEqual([]);
    const before = await it.setUp(operation);
    const control = sandbox().simulator.control;
    control.trace.reset();
    const startedBefore = await execFaults().started();
    const after = await it.perform(operation, before);
    const sessions = (await execFaults().started()) - startedBefore;
    const seen = new Map<string, number>();
    const calls = control.trace.get().calls.map(({ method }) => {
      const ordinal = seen.get(method) ?? 0;
      seen.set(method, ordinal + 1);
      return { method, ordinal };
    });
    expect(await it.tearDown(operation === "delete" ? undefined : after)).toEqual([]);
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
      fired: () => (control.faults.list().find((rule) => rule.id === ruleId)?.hits ?? 0) === 1,
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
      fired: async () => (await execFaults().started()) >= firstSession + nth,
      reached: () => true,
      clearReport: /injected failure of SSH session|255/,
    };
  }

  /** Cases whose call the run did not make (see Fault.reached); printed, never counted as passed. */
  const unreached: string[] = [];

  async function clearFaults(): Promise<void> {
    sandbox().simulator.control.faults.clear();
    await execFaults().clear();
  }

  /** Runs one case; returns what went wrong (empty: the case passed). */
  async function runCase(operation: Operation, fault: Fault): Promise<string[]> {
    const it = subject();
    const before = await it.setUp(operation);
    await fault.arm();
    let after: Stored | undefined;
    const problems: string[] = [];
    let fired: boolean | undefined;
    try {
      after = await it.perform(operation, before);
    } catch (error) {
      const message = messageOf(error);
      if (!fault.clearReport.test(message)) problems.push(`unclear failure: ${message}`);
      fired = await fault.fired();
      await clearFaults();
      after = await it.retry(operation, before, error).catch((retryError: unknown) => {
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
    await clearFaults();
    if (problems.length === 0) problems.push(...(await it.convergenceProblems(operation, after)));
    const held = operation === "delete" ? undefined : after;
    problems.push(...(await it.tearDown(held).catch((e: unknown) => [`teardown: ${messageOf(e)}`])));
    return problems.map((problem) => `${operation}, ${fault.name}: ${problem}`);
  }

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
        `${title}, ${operation}: ${faults.length} cases in ${Date.now() - started} ms` +
          (notReached.length === 0 ? "" : `; call not made, so not tested: ${notReached.join("; ")}`),
      );
      // Only the session's own calls may go unmade (the provider kept its session): never the work.
      expect(
        notReached.filter((name) => !/session\.login|pool\.get_all_records|system\.listMethods/.test(name)),
      ).toEqual([]);
      expect(problems).toEqual(known[operation].map((pattern): unknown => expect.stringMatching(pattern)));
    }, 600_000);
  });
}
