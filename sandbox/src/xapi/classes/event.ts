import type { Change, Database, XapiClass } from "../database";
import { createHash } from "node:crypto";
import { Faults, fail, ok } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { sleep } from "../dispatch/sleep";
import { XapiInt32, asFloat } from "../values";
import type { XapiStruct, XapiValue } from "../values";

/**
 * event.from tokens as XAPI writes them (xen-api `xapi_event.ml`, Token.to_string): the last event
 * id and the message generation, each zero-padded to 20 digits, joined by a comma. The simulator
 * has no messages, so the second part stays 0.
 */
export function tokenOf(generation: number): string {
  return `${String(generation).padStart(20, "0")},${"0".padStart(20, "0")}`;
}

/** Token.of_string: "" is the start; otherwise exactly two integers separated by a comma. */
export function parseToken(token: string): number | undefined {
  if (token === "") return 0;
  const parts = token.split(",");
  if (parts.length !== 2 || !parts.every((part) => /^-?\d+$/.test(part))) return undefined;
  return Number(parts[0]);
}

/**
 * What event.from subscribes to (xen-api `xapi_event.ml` Subscription.of_string): "*" is every
 * class with events (session has none: gen_events false in the datamodel), "vm" a whole class,
 * "vm/<ref>" one object; class names are matched case-insensitively.
 */
interface Subscriptions {
  classes: Set<XapiClass>;
  matches: (change: Change) => boolean;
}

function subscribe(db: Database, names: readonly string[]): Subscriptions {
  const all = db.classes().filter((cls) => cls !== "session");
  const parsed = names.map((name) => {
    if (name === "*") return { cls: "*", ref: undefined };
    const slash = name.indexOf("/");
    return slash < 0
      ? { cls: name.toLowerCase(), ref: undefined }
      : { cls: name.slice(0, slash).toLowerCase(), ref: name.slice(slash + 1) };
  });
  const classes = new Set(
    all.filter((cls) => parsed.some((sub) => sub.cls === "*" || sub.cls === cls.toLowerCase())),
  );
  const matches = (change: Change) =>
    parsed.some(
      (sub) =>
        sub.cls === "*" ||
        (sub.cls === change.cls.toLowerCase() && (sub.ref === undefined || sub.ref === change.ref)),
    );
  return { classes, matches };
}

/**
 * One event.from reply (xen-api `xapi_event.ml` from_inner, `event_types.ml`): each event's id is
 * the generation as a string and its timestamp "0.0"; valid_ref_counts counts the rows of every
 * table of the database, subscribed or not, as int32s.
 */
function eventBatch(db: Database, subscriptions: Subscriptions, since: number): XapiStruct {
  const events = db
    .changesSince(since, subscriptions.classes)
    .filter(subscriptions.matches)
    .map((change) => {
      const event: XapiStruct = {
        id: String(change.generation),
        timestamp: "0.0",
        class: change.cls.toLowerCase(),
        operation: change.operation,
        ref: change.ref,
      };
      if (change.operation !== "del") event["snapshot"] = db.record(change.ref);
      return event;
    });
  const counts: XapiStruct = {};
  for (const cls of db.classes()) counts[cls.toLowerCase()] = new XapiInt32(db.refs(cls).length);
  return { events, valid_ref_counts: counts, token: tokenOf(db.generation) };
}

/** Resolves when the database changes, the timeout passes or the call is aborted. */
function nextChange(db: Database, timeoutMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    const unsubscribe = db.onChange(done);
    signal.addEventListener("abort", done);
  });
}

/**
 * The legacy event API's per-session subscriptions (xen-api `xapi_event.ml` module Next): what the
 * session registered for and the last event id it has been given (events from registration on).
 */
const legacy = new WeakMap<Database, Map<string, { names: string[]; last: number }>>();

function legacyOf(db: Database) {
  let subscriptions = legacy.get(db);
  if (subscriptions === undefined) {
    subscriptions = new Map<string, { names: string[]; last: number }>();
    legacy.set(db, subscriptions);
  }
  return subscriptions;
}

/** SESSION_NOT_REGISTERED names the session by its trackid: MD5 of the ref (context.ml trackid_of_session). */
const trackid = (session: string) => `trackid=${createHash("md5").update(session).digest("hex")}`;

/**
 * event.next's events (xen-api `event_types.ml` event record: id, timestamp, class, operation,
 * ref, snapshot); timestamp is OCaml's string_of_float of Unix.time ("1733420000."). Choice: the
 * simulator's database keeps one change per object, so several writes to an object between two
 * calls come back as one event, where xapi queues one per write.
 */
function legacyEvents(db: Database, subscriptions: Subscriptions, since: number): XapiStruct[] {
  const timestamp = `${Math.floor(Date.now() / 1000)}.`;
  return db
    .changesSince(since, subscriptions.classes)
    .filter(subscriptions.matches)
    .map((change) => {
      const event: XapiStruct = {
        id: String(change.generation),
        timestamp,
        class: change.cls.toLowerCase(),
        operation: change.operation,
        ref: change.ref,
      };
      if (change.operation !== "del") event["snapshot"] = db.record(change.ref);
      return event;
    });
}

const classesParam = [{ name: "classes", kind: "set" }] as const;

export const eventMethods: MethodSpec[] = [
  {
    // xapi_event.ml register: adds to the session's subscription, made on first use.
    name: "event.register",
    params: [...classesParam],
    handler: ({ db, session }, [names]) => {
      const subscriptions = legacyOf(db);
      const current = subscriptions.get(session) ?? { names: [], last: db.generation };
      subscriptions.set(session, {
        ...current,
        names: [...(names as XapiValue[]).map(String), ...current.names],
      });
      return ok("");
    },
  },
  {
    // xapi_event.ml unregister: drops the given subscriptions (the session stays registered).
    name: "event.unregister",
    params: [...classesParam],
    handler: ({ db, session }, [names]) => {
      const subscriptions = legacyOf(db);
      const current = subscriptions.get(session) ?? { names: [], last: db.generation };
      const dropped = new Set((names as XapiValue[]).map(String));
      subscriptions.set(session, { ...current, names: current.names.filter((name) => !dropped.has(name)) });
      return ok("");
    },
  },
  {
    // xapi_event.ml next: SESSION_NOT_REGISTERED [trackid] without a registration; otherwise blocks
    // until an event it subscribed to happens, and returns the events since its last call.
    name: "event.next",
    params: [],
    handler: async ({ db, session, signal }) => {
      const subscriptions = legacyOf(db);
      if (!subscriptions.has(session)) return fail("SESSION_NOT_REGISTERED", trackid(session));
      for (;;) {
        if (!db.has(session, "session")) return Faults.sessionInvalid(session);
        const current = subscriptions.get(session);
        if (current === undefined) return fail("SESSION_NOT_REGISTERED", trackid(session));
        const events = legacyEvents(db, subscribe(db, current.names), current.last);
        current.last = db.generation;
        if (events.length > 0) return ok(events);
        if (signal.aborted) return ok([]);
        await nextChange(db, 60_000, signal);
      }
    },
  },
  {
    name: "event.inject",
    params: [
      { name: "class", kind: "string" },
      { name: "ref", kind: "string" },
    ],
    handler: ({ db }, [cls, ref]) => {
      const target = String(ref);
      if (db.classOf(target)?.toLowerCase() !== String(cls).toLowerCase())
        return Faults.handleInvalid(String(cls), target);
      // Upstream returns the generation before the touch, minus one (xen-api `xapi_event.ml` inject).
      const before = db.generation;
      db.touch(target);
      return ok(tokenOf(before - 1));
    },
  },
  {
    name: "event.from",
    params: [
      { name: "classes", kind: "set" },
      { name: "token", kind: "string" },
      { name: "timeout", kind: "float" },
    ],
    handler: async ({ db, session, signal, profile }, [names, token, timeout]) => {
      const since = parseToken(String(token));
      if (since === undefined) return fail("EVENT_FROM_TOKEN_PARSE_FAILURE", String(token));
      const subscriptions = subscribe(db, (names as XapiValue[]).map(String));
      const deadline = Date.now() + Math.max(0, asFloat(timeout) ?? 0) * 1000;
      for (;;) {
        if (!db.has(session, "session")) return Faults.sessionInvalid(session);
        const pending = db.changesSince(since, subscriptions.classes).some(subscriptions.matches);
        const remaining = deadline - Date.now();
        if (pending || remaining <= 0 || signal.aborted) {
          // Like XAPI, let a burst of changes settle so that they come back in one batch.
          if (pending) await sleep(profile.eventBatchMs, signal);
          return ok(eventBatch(db, subscriptions, since));
        }
        await nextChange(db, remaining, signal);
      }
    },
  },
];
