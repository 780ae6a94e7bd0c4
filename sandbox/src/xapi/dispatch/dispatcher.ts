import { createTask, finishTask } from "../classes/task";
import { LOGIN_METHOD } from "../classes/session";
import type { FaultRules } from "../control/fault-rules";
import { baseLatency } from "../control/profile";
import type { ServiceTimeProfile } from "../control/profile";
import type { CallOutcome, CallTrace } from "../control/trace";
import { Faults } from "../faults";
import type { Outcome, XapiFault } from "../faults";
import { isStruct, newRef } from "../values";
import type { XapiValue } from "../values";
import type { Database } from "../database";
import type { World } from "../world";
import { KeyedMutex } from "./locks";
import type { CallContext, MethodSpec } from "./method";
import { Semaphore } from "./semaphore";
import { sleep } from "./sleep";

/** What the wire layer does with a call: send a value, send a XAPI failure, or drop the connection. */
export type DispatchResult =
  { kind: "success"; value: XapiValue } | { kind: "failure"; fault: XapiFault } | { kind: "drop" };

export interface DispatcherDeps {
  world: World;
  faults: FaultRules;
  trace: CallTrace;
  profile: () => ServiceTimeProfile;
  /** Aborted by stop(): ends long polls and pending delays. */
  signal: AbortSignal;
}

const ASYNC_PREFIX = "Async.";
/** How often a member's call waiting for its rebooting master looks again. */
const MASTER_RECONNECT_POLL_MS = 50;

/** What the trace learns about a call while it is dispatched. */
interface CallFacts {
  session: string;
  ref?: string;
  lockWaitMs?: number;
}

function toResult(outcome: Outcome<XapiValue>): DispatchResult {
  return outcome.ok ? { kind: "success", value: outcome.value } : { kind: "failure", fault: outcome.fault };
}

function traceOutcome(result: DispatchResult): CallOutcome {
  if (result.kind === "success") return { status: "success" };
  if (result.kind === "drop") return { status: "dropped" };
  return { status: "failure", code: result.fault.code, params: result.fault.params };
}

/**
 * The one path every call takes, whatever the wire: find the method, check the argument count and
 * the session, resolve object references, apply fault rules and service time, then run the
 * handler under its locks. Async.* calls return a task at once and settle it when the work ends.
 */
export class Dispatcher {
  private readonly locks = new KeyedMutex();
  private readonly logins: Semaphore;

  constructor(private readonly deps: DispatcherDeps) {
    this.logins = new Semaphore(() => deps.profile().maxConcurrentRemoteLogins);
  }

  async dispatch(
    method: string,
    params: readonly unknown[],
    transport: "tls" | "unix",
    localHost: string = this.deps.world.host,
  ): Promise<DispatchResult> {
    const startedAt = Date.now();
    const facts: CallFacts = { session: "" };
    let result: DispatchResult;
    try {
      result = await this.run(method, params, transport, facts, localHost);
    } catch (error) {
      result = toResult(Faults.internalError(error instanceof Error ? error.message : String(error)));
    }
    this.deps.trace.record({
      method,
      session: facts.session,
      ...(facts.ref === undefined ? {} : { ref: facts.ref }),
      ...(facts.lockWaitMs === undefined ? {} : { lockWaitMs: facts.lockWaitMs }),
      transport,
      host: localHost,
      startedAt,
      durationMs: Date.now() - startedAt,
      outcome: traceOutcome(result),
    });
    return result;
  }

  private async run(
    method: string,
    params: readonly unknown[],
    transport: "tls" | "unix",
    facts: CallFacts,
    localHost: string,
  ): Promise<DispatchResult> {
    // A rebooting host's XAPI is not running.
    const { down, emergency, host: master } = this.deps.world;
    if (down.has(localHost)) return { kind: "drop" };
    // A member whose XAPI started without reaching its master runs in emergency mode: every call
    // but the emergency ones (none of which is modelled) answers the stashed error, whose initial
    // value is HOST_STILL_BOOTING (xen-api ocaml/xapi/api_server.ml callback1,
    // xapi_globs.ml emergency_mode_error, xapi.ml server_run_in_emergency_mode).
    if (emergency.has(localHost)) return toResult(Faults.hostStillBooting());
    // A running member reaches the database through its master connection, which keeps
    // reconnecting while the master is down, without end by default (xen-api
    // ocaml/database/master_connection.ml; db_globs.ml master_connection_retry_timeout = -1,
    // "-ve means don't timeout"): the call waits, then goes on once the master is back.
    while (localHost !== master && down.has(master)) await sleep(MASTER_RECONNECT_POLL_MS, this.deps.signal);
    const resolved = this.resolve(method, params, facts);
    if ("kind" in resolved) return resolved;
    const { spec, args, isAsync } = resolved;

    const ruled = await this.applyFaultRules(spec, facts.ref);
    if (ruled !== undefined) return ruled;
    await this.payServiceTime(spec, transport);

    const { world, signal } = this.deps;
    const context: CallContext = {
      world,
      db: world.db,
      method: spec.name,
      session: facts.session,
      transport,
      localHost,
      signal,
      profile: this.deps.profile(),
    };
    if (!isAsync) return toResult(await this.runLocked(spec, context, args, facts, newRef()));

    const task = createTask(world.db, world.host, method);
    void this.runLocked(spec, context, args, {}, task).then(
      (outcome) => finishTask(world.db, task, outcome),
      (error: unknown) =>
        finishTask(
          world.db,
          task,
          Faults.internalError(error instanceof Error ? error.message : String(error)),
        ),
    );
    return { kind: "success", value: task };
  }

  /** Finds the method and checks the argument count, the session and every object reference. */
  private resolve(
    method: string,
    params: readonly unknown[],
    facts: CallFacts,
  ): DispatchResult | { spec: MethodSpec; args: unknown[]; isAsync: boolean } {
    const { db, methods } = this.deps.world;
    const isAsync = method.startsWith(ASYNC_PREFIX);
    const name = isAsync ? method.slice(ASYNC_PREFIX.length) : method;
    const spec = methods.get(name);
    if (spec === undefined) {
      // xen-api gen_server.ml: an unknown name with parameters is tried as a host extension,
      // whose first parameter is a session checked first (Session_check); then
      // MESSAGE_METHOD_UNKNOWN names the call without "Async." (xapi_extensions.ml find_extension).
      if (params.length > 0 && !db.has(String(params[0]), "session"))
        return toResult(Faults.sessionInvalid(String(params[0])));
      return toResult(Faults.methodUnknown(name));
    }

    const needsSession = spec.needsSession !== false;
    const received = params.length - (needsSession ? 1 : 0);
    const required = spec.params.length - (spec.optionalParams ?? 0);
    if (received < required || received > spec.params.length) {
      // Upstream (xen-api gen_server.ml): the name without "Async.", the count of parameters
      // without defaults, and what came, both without the session.
      return toResult(Faults.parameterCountMismatch(spec.name, required, received));
    }
    facts.session = needsSession ? String(params[0]) : "";
    if (needsSession && !db.has(facts.session, "session"))
      return toResult(Faults.sessionInvalid(facts.session));
    // server_helpers.ml do_dispatch, after the arity and session checks: a call without an
    // Async form answers XAPI's "Fault" failure (API.response_of_fault).
    if (isAsync && spec.hasAsync !== true) return toResult(Faults.noAsyncMode(spec.name));
    const args = needsSession ? params.slice(1) : [...params];

    const invalid = this.invalidRef(spec, args);
    if (invalid !== undefined) return toResult(invalid);
    const firstRef = spec.params.findIndex((param) => param.kind === "ref");
    if (firstRef >= 0) facts.ref = String(args[firstRef]);
    return { spec, args, isAsync };
  }

  /** The first fault rule that fires decides: an added delay, then an error, a drop, or nothing. */
  private async applyFaultRules(
    spec: MethodSpec,
    target: string | undefined,
  ): Promise<DispatchResult | undefined> {
    const { db } = this.deps.world;
    const rule = this.deps.faults.fire({
      method: spec.name,
      objectClass: target === undefined ? undefined : db.classOf(target),
      nameLabel: target === undefined ? undefined : db.str(target, "name_label") || undefined,
      ref: target,
    });
    if (rule === undefined) return undefined;
    if (rule.delayMs !== undefined) await sleep(rule.delayMs, this.deps.signal);
    if (rule.action === "drop") return { kind: "drop" };
    if (typeof rule.action === "object") return { kind: "failure", fault: rule.action.error };
    return undefined;
  }

  /** Every call's base latency, plus the login cost (remote logins share a limited pool, like PAM's). */
  private async payServiceTime(spec: MethodSpec, transport: "tls" | "unix"): Promise<void> {
    const { signal } = this.deps;
    const profile = this.deps.profile();
    await sleep(baseLatency(profile), signal);
    if (spec.name !== LOGIN_METHOD) return;
    if (transport === "unix") await sleep(profile.loginMs.local, signal);
    else await this.logins.run(() => sleep(this.deps.profile().loginMs.remote, signal));
  }

  /** HANDLE_INVALID for the first reference parameter that names no live object of its class. */
  private invalidRef(spec: MethodSpec, args: readonly unknown[]): Outcome<XapiValue> | undefined {
    for (const [index, param] of spec.params.entries()) {
      if (param.kind !== "ref" || index >= args.length) continue;
      const ref = String(args[index]);
      if (!this.deps.world.db.has(ref, param.cls)) return Faults.handleInvalid(param.cls, ref);
    }
    return undefined;
  }

  private async runLocked(
    spec: MethodSpec,
    context: CallContext,
    args: readonly unknown[],
    facts: { lockWaitMs?: number },
    task: string,
  ): Promise<Outcome<XapiValue>> {
    for (;;) {
      const outcome = await this.runLockedOnce(spec, context, args, facts, task);
      if (!("busy" in outcome)) return outcome;
      // Waited with the locks released, as upstream waits outside its global lock.
      await operationEnded(context.db, outcome.busy, context.signal);
      if (context.signal.aborted) return { ok: false, fault: outcome.busy };
    }
  }

  /** One attempt under the locks; `busy`: the precheck met another operation worth waiting for. */
  private async runLockedOnce(
    spec: MethodSpec,
    context: CallContext,
    args: readonly unknown[],
    facts: { lockWaitMs?: number },
    task: string,
  ): Promise<Outcome<XapiValue> | { busy: XapiFault }> {
    const keys = spec.locks?.(args, context.db) ?? [];
    const queuedAt = Date.now();
    return this.locks.run(keys, async () => {
      if (keys.length > 0) facts.lockWaitMs = (facts.lockWaitMs ?? 0) + Date.now() - queuedAt;
      // The objects may have gone while this call waited for the lock.
      const invalid = this.invalidRef(spec, args);
      if (invalid !== undefined) return invalid;
      const refused = spec.precheck?.(context, args);
      if (refused !== undefined && !refused.ok && spec.waitsForOtherOperations === true) {
        if (refused.fault.code === "OTHER_OPERATION_IN_PROGRESS") return { busy: refused.fault };
      }
      if (refused !== undefined) return refused;
      const { marks } = spec;
      const target = marks === undefined ? undefined : String(args[0]);
      if (target !== undefined && marks !== undefined) markOperation(context.db, target, task, marks);
      try {
        if (spec.ownServiceTime !== true)
          await sleep(this.deps.profile().methodExtraMs[spec.name] ?? 0, context.signal);
        return await spec.handler(context, args);
      } finally {
        if (target !== undefined) unmarkOperation(context.db, target, task);
      }
    });
  }
}

/** How often a waiting call looks again (choice: upstream is woken when the object is unmarked). */
const OPERATION_POLL_MS = 20;

/**
 * Until the operation named by OTHER_OPERATION_IN_PROGRESS [class, ref, op, task] has left the
 * object's current_operations (or the object is gone). Choice: no 2-hour cap, as upstream's
 * standard policy has; the simulator's stop ends the wait.
 */
async function operationEnded(db: Database, busy: XapiFault, signal: AbortSignal): Promise<void> {
  const [, ref = "", , task = ""] = busy.params;
  const running = () => {
    if (!db.has(ref)) return false;
    const current = db.raw(ref, "current_operations");
    return isStruct(current) && (task === "" ? Object.keys(current).length > 0 : task in current);
  };
  while (running() && !signal.aborted) await sleep(OPERATION_POLL_MS, signal);
}

/**
 * Shows a running operation as {task: op} in the object's current_operations. A sync call has
 * a task upstream too; the simulator names it by a fresh ref without a task record (choice).
 */
function markOperation(db: Database, ref: string, task: string, op: string): void {
  const current = db.raw(ref, "current_operations");
  db.update(ref, { current_operations: { ...(isStruct(current) ? current : {}), [task]: op } });
}

function unmarkOperation(db: Database, ref: string, task: string): void {
  if (!db.has(ref)) return;
  const current = db.raw(ref, "current_operations");
  const rest = { ...(isStruct(current) ? current : {}) };
  delete rest[task];
  db.update(ref, { current_operations: rest });
}
