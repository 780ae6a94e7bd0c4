// event.from and event.inject tokens in XAPI's shape (xen-api xapi_event.ml, module Token).
import { jsonFailure, jsonResult, login, useXapiSimulator } from "./xapi-fixture";

const sim = useXapiSimulator({ gcIntervalMs: 0 });
const TOKEN_FORM = /^\d{20},\d{20}$/;
let session = "";

const call = <T = unknown>(method: string, ...args: unknown[]) =>
  jsonResult<T>({ sim: sim() }, method, [session, ...args]);

interface EventBatch {
  events: Array<{ class: string; ref: string; operation: string }>;
  token: string;
}

beforeAll(async () => {
  session = await login(sim());
});

test("tokens are two zero-padded 20-digit numbers joined by a comma, and sort as strings", async () => {
  const first = await call<EventBatch>("event.from", ["vm"], "", 0);
  expect(first.token).toMatch(TOKEN_FORM);
  expect(first.events.length).toBeGreaterThan(0);
  const [media] = await call<string[]>("VM.get_by_name_label", "media-server");
  await call("VM.set_name_description", media, "changed");
  const next = await call<EventBatch>("event.from", ["vm"], first.token, 0);
  expect(next.token).toMatch(TOKEN_FORM);
  expect(next.token > first.token).toBe(true);
  expect(next.events.map((event) => [event.ref, event.operation])).toEqual([[media, "mod"]]);
});

test("event.inject answers a token from which event.from reports the touched object", async () => {
  const [media] = await call<string[]>("VM.get_by_name_label", "media-server");
  const token = await call<string>("event.inject", "VM", media);
  expect(token).toMatch(TOKEN_FORM);
  const batch = await call<EventBatch>("event.from", ["vm"], token, 0);
  expect(batch.events.map((event) => event.ref)).toContain(media);
});

test("a token that is not '' or 'a,b' fails EVENT_FROM_TOKEN_PARSE_FAILURE", async () => {
  for (const token of ["12", "1,2,3", "x,1"]) {
    expect(await jsonFailure({ sim: sim() }, "event.from", [session, ["vm"], token, 0])).toEqual([
      "EVENT_FROM_TOKEN_PARSE_FAILURE",
      token,
    ]);
  }
});
