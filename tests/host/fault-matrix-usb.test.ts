// The fault matrix for PassthroughUsb: for create, update (the stick to another VM), delete and
// read, every XAPI call and every SSH exec of a normal run, in turn made to fail once (taken from
// a recorded normal run: the simulator's call trace, the sandbox sshd's session count). After
// each fault: the operation fails with a clear error or succeeds, and a retry converges with no
// VUSB or passthrough left that the resource does not hold, and none duplicated.
import type { Stored } from "../support/engine";
import type { Operation } from "../support/fault-matrix";
import { OPERATIONS, messageOf } from "../support/fault-matrix";
import type { UsbMatrixWorld } from "../support/fault-matrix-usb";
import {
  USB_GUESTS,
  performUsb,
  retryUsb,
  setUpUsb,
  tearDownUsb,
  usbConvergenceProblems,
} from "../support/fault-matrix-usb";
import { useSandbox } from "../support/sandbox";
import { useUsbEngine } from "../support/usb-engine";

const sandbox = useSandbox({ disks: 1, execFaults: true, model: USB_GUESTS });
const engine = useUsbEngine();

const INJECTED = "xen-sandbox: injected fault";
const world = (): UsbMatrixWorld => ({ sandbox: sandbox(), engine: engine() });

function execFaults() {
  const faults = sandbox().execFaults;
  if (faults === undefined) throw new Error("the sandbox was started without exec faults");
  return faults;
}

/** One fault: armed just before the operation, cleared right after it. */
interface Fault {
  readonly name: string;
  arm(): void | Promise<void>;
  fired(): boolean | Promise<boolean>;
  /** Whether the run made the call at all (a kept session makes no login calls). */
  reached(): boolean;
  readonly clearReport: RegExp;
}

async function record(
  operation: Operation,
): Promise<{ calls: { method: string; ordinal: number }[]; sessions: number }> {
  const w = world();
  // Steady state: the first run of a process also connects and logs in; the matrix covers the run after.
  const warm = await setUpUsb(w, "create");
  expect(await tearDownUsb(w, warm)).toEqual([]);
  const before = await setUpUsb(w, operation);
  const control = sandbox().simulator.control;
  control.trace.reset();
  const startedBefore = await execFaults().started();
  const after = await performUsb(w, operation, before);
  const sessions = (await execFaults().started()) - startedBefore;
  const seen = new Map<string, number>();
  const calls = control.trace.get().calls.map(({ method }) => {
    const ordinal = seen.get(method) ?? 0;
    seen.set(method, ordinal + 1);
    return { method, ordinal };
  });
  expect(await tearDownUsb(w, operation === "delete" ? undefined : after)).toEqual([]);
  return { calls, sessions };
}

function xapiFault(method: string, ordinal: number): Fault {
  const control = sandbox().simulator.control;
  let ruleId = "";
  return {
    name: `XAPI ${method} #${ordinal + 1} fails`,
    arm() {
      control.trace.reset();
      ruleId = control.faults.add({
        method,
        skip: ordinal,
        count: 1,
        action: { error: { code: "INTERNAL_ERROR", params: [INJECTED] } },
      }).id;
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

const unreached: string[] = [];

async function runCase(operation: Operation, fault: Fault): Promise<string[]> {
  const w = world();
  const before = await setUpUsb(w, operation);
  await fault.arm();
  let after: Stored | undefined;
  const problems: string[] = [];
  let fired: boolean | undefined;
  try {
    after = await performUsb(w, operation, before);
  } catch (error) {
    const message = messageOf(error);
    if (!fault.clearReport.test(message)) problems.push(`unclear failure: ${message}`);
    fired = await fault.fired();
    sandbox().simulator.control.faults.clear();
    await execFaults().clear();
    after = await retryUsb(w, operation, before, error).catch((retryError: unknown) => {
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
  if (problems.length === 0) problems.push(...(await usbConvergenceProblems(w, operation, after)));
  const held = operation === "delete" ? undefined : after;
  problems.push(...(await tearDownUsb(w, held).catch((e: unknown) => [`teardown: ${messageOf(e)}`])));
  return problems.map((problem) => `${operation}, ${fault.name}: ${problem}`);
}

describe.each(OPERATIONS)("%s", (operation) => {
  test(`every XAPI call and every SSH exec of a normal ${operation}, failed once, then a retry converges`, async () => {
    const recorded = await record(operation);
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
      `USB fault matrix, ${operation}: ${faults.length} cases in ${Date.now() - started} ms` +
        (notReached.length === 0 ? "" : `; call not made, so not tested: ${notReached.join("; ")}`),
    );
    expect(
      notReached.filter((name) => !/session\.login|pool\.get_all_records|system\.listMethods/.test(name)),
    ).toEqual([]);
    expect(problems).toEqual([]);
  }, 600_000);
});
