import type { ServiceTimeProfile } from "../control/profile";
import type { Database, XapiClass } from "../database";
import type { Outcome } from "../faults";
import type { XapiValue } from "../values";
import type { World } from "../world";

/** How a parameter is checked before the handler runs; `ref` parameters must name a live object. */
export type ParamSpec =
  | { name: string; kind: "ref"; cls: XapiClass }
  | { name: string; kind: "string" | "int" | "float" | "bool" | "map" | "set" | "struct" | "any" };

/** The call as a handler sees it: the world, who calls, and over which listener. */
export interface CallContext {
  world: World;
  db: Database;
  method: string;
  /** The caller's session ref ("" for calls that take none, such as login). */
  session: string;
  /** "tls" for the remote HTTPS listener, "unix" for the local socket (local superuser). */
  transport: "tls" | "unix";
  /** The pool host whose listener the call arrived on (the master unless a member's). */
  localHost: string;
  /** Lets a long call (event.from) end early when the simulator stops. */
  signal: AbortSignal;
  /** The service-time profile in force when the call arrived. */
  profile: ServiceTimeProfile;
}

export type HandlerResult = Outcome<XapiValue> | Promise<Outcome<XapiValue>>;

/** One XAPI method: its parameters (after the session), its lock scope and its handler. */
export interface MethodSpec {
  name: string;
  params: ParamSpec[];
  /** Trailing parameters that clients may omit (XAPI gives them defaults). */
  optionalParams?: number;
  /** False for the few calls made before a session exists (login). */
  needsSession?: boolean;
  /** Whether `Async.<name>` exists; XAPI has none for getters, session.* and task.*. */
  hasAsync?: boolean;
  /** Lock keys the handler runs under (per VM, per SR, global); computed from resolved args. */
  locks?: (args: readonly unknown[], db: Database) => string[];
  /**
   * XAPI's assert_operation_valid, run under the locks before anything else: a fault here means
   * the call changes nothing and marks nothing.
   */
  precheck?: (ctx: CallContext, args: readonly unknown[]) => Outcome<XapiValue> | undefined;
  /**
   * The operation this call shows in its first object's `current_operations` ({task: op}) while
   * it runs, as XAPI's with_<class>_marked does.
   */
  marks?: string;
  /**
   * An OTHER_OPERATION_IN_PROGRESS from the precheck is waited out and the precheck run again,
   * rather than returned: xen-api `message_forwarding.ml` with_vbd_marked / with_sr_marked mark
   * under `Helpers.retry_with_global_lock` (helpers.ml), which retries that one error.
   */
  waitsForOtherOperations?: boolean;
  /** The handler spends the method's extra service time itself (SR.scan: part of it in sm). */
  ownServiceTime?: boolean;
  handler: (ctx: CallContext, args: readonly unknown[]) => HandlerResult;
}

/** The registry every dispatch goes through. */
export class MethodTable {
  private readonly methods = new Map<string, MethodSpec>();

  add(...specs: MethodSpec[]): void {
    for (const spec of specs) this.methods.set(spec.name, spec);
  }

  get(name: string): MethodSpec | undefined {
    return this.methods.get(name);
  }

  names(): string[] {
    return [...this.methods.keys()].sort();
  }

  /**
   * system.listMethods: every method by its synchronous name only; XAPI lists no Async.* names
   * (xen-api ocaml/idl/ocaml_backend/gen_server.ml builds the list with `wire_name ~sync:true`).
   */
  listMethods(): string[] {
    return [...this.methods.values()].map((spec) => spec.name).sort();
  }
}
