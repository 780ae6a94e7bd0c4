// Sessions and call framing: TLS logins check credentials, Unix-socket logins are local superuser
// logins, pool members answer HOST_IS_SLAVE, and bad sessions, methods and arities fail as XAPI's do.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startXapiSimulator } from "xen-sandbox";
import { jsonFailure, jsonResult, jsonRpc, login, rawPost, useXapiSimulator } from "./xapi-fixture";

const sim = useXapiSimulator({ username: "root", password: "s3cret" });
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "xp-xapi-sessions-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("a TLS login checks the credentials", async () => {
  expect(await login(sim())).toMatch(/^OpaqueRef:/);
  expect(
    await jsonFailure({ sim: sim() }, "session.login_with_password", ["root", "nope", "1.0", "t"]),
  ).toEqual(["SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"]);
  // version and originator are optional, as the xen-api client sends only two.
  expect(await jsonResult({ sim: sim() }, "session.login_with_password", ["root", "s3cret"])).toMatch(
    /^OpaqueRef:/,
  );
});

test("logout ends the session; unknown sessions are SESSION_INVALID", async () => {
  const session = await login(sim());
  expect(await jsonResult({ sim: sim() }, "session.get_this_host", [session, session])).toBe(
    sim().control.state().host.ref,
  );
  await jsonResult({ sim: sim() }, "session.logout", [session]);
  expect(await jsonFailure({ sim: sim() }, "VM.get_all", [session])).toEqual(["SESSION_INVALID", session]);
  expect(await jsonFailure({ sim: sim() }, "VM.get_all", ["OpaqueRef:made-up"])).toEqual([
    "SESSION_INVALID",
    "OpaqueRef:made-up",
  ]);
});

test("unknown methods and wrong arities fail without running anything", async () => {
  const session = await login(sim());
  expect(await jsonFailure({ sim: sim() }, "VM.snapshot", [session, "x", "y"])).toEqual([
    "MESSAGE_METHOD_UNKNOWN",
    "VM.snapshot",
  ]);
  // xen-api server_helpers.ml do_dispatch: a call without an Async form answers a "Fault".
  expect(await jsonFailure({ sim: sim() }, "Async.VM.get_record", [session, "x"])).toEqual([
    "Fault",
    "No async mode for this operation (rpc: VM.get_record)",
  ]);
  // An unknown name is tried as a host extension: the session is checked first, and the
  // failure names the call without "Async." (xen-api gen_server.ml, xapi_extensions.ml).
  expect(await jsonFailure({ sim: sim() }, "Async.VM.no_such_call", [session])).toEqual([
    "MESSAGE_METHOD_UNKNOWN",
    "VM.no_such_call",
  ]);
  expect(await jsonFailure({ sim: sim() }, "VM.no_such_call", ["OpaqueRef:made-up"])).toEqual([
    "SESSION_INVALID",
    "OpaqueRef:made-up",
  ]);
  // xen-api gen_server.ml: [name without "Async.", parameters without defaults, received], the
  // session counted in neither.
  expect(await jsonFailure({ sim: sim() }, "VM.start", [session, "x"])).toEqual([
    "MESSAGE_PARAMETER_COUNT_MISMATCH",
    "VM.start",
    "3",
    "1",
  ]);
  expect(await jsonFailure({ sim: sim() }, "Async.VM.start", [session])).toEqual([
    "MESSAGE_PARAMETER_COUNT_MISMATCH",
    "VM.start",
    "3",
    "0",
  ]);
  // VDI.introduce: nine parameters without defaults, nine more with them.
  expect(await jsonFailure({ sim: sim() }, "VDI.introduce", [session, "u", "", "", "x", "user"])).toEqual([
    "MESSAGE_PARAMETER_COUNT_MISMATCH",
    "VDI.introduce",
    "9",
    "5",
  ]);
  const methods = await jsonResult<string[]>({ sim: sim() }, "system.listMethods", []);
  expect(methods).toEqual(expect.arrayContaining(["VBD.plug", "VM.get_all_records", "event.from"]));
  // XAPI lists synchronous names only (gen_server.ml: wire_name ~sync:true).
  expect(methods.filter((name) => name.startsWith("Async."))).toEqual([]);
});

test("JSON-RPC replies use XAPI's shapes and exact content type; 1.0 callers get the bare error array", async () => {
  const reply = await rawPost(
    { sim: sim() },
    "/jsonrpc",
    "application/json",
    JSON.stringify({ method: "VM.get_all", params: ["bad"], id: 3 }),
  );
  expect(reply.contentType).toBe("application/json");
  expect(JSON.parse(reply.body)).toEqual({ result: null, error: ["SESSION_INVALID", "bad"], id: 3 });
  expect(await jsonRpc({ sim: sim() }, "VM.get_all", ["bad"])).toEqual({
    jsonrpc: "2.0",
    error: { code: 1, message: "SESSION_INVALID", data: ["bad"] },
    id: 7,
  });
});

test("over a Unix socket, plain HTTP in both protocols, any login is a local superuser session", async () => {
  const socketPath = join(dir, "xapi");
  await sim().listenUnix(socketPath);
  const session = await jsonResult<string>({ socketPath }, "session.login_with_password", [
    "",
    "",
    "1.0",
    "xe",
  ]);
  expect(await jsonResult({ socketPath }, "session.get_is_local_superuser", [session, session])).toBe(true);
  const xml = await rawPost(
    { socketPath },
    "/",
    "text/xml",
    `<?xml version="1.0"?><methodCall><methodName>VM.get_by_name_label</methodName><params>` +
      `<param><value><string>${session}</string></value></param>` +
      `<param><value><string>archive</string></value></param></params></methodCall>`,
  );
  expect(xml.contentType).toBe("text/xml");
  expect(xml.body).toContain("<name>Status</name><value>Success</value>");
  expect(xml.body).toContain("OpaqueRef:");
});

test("stop() closes the listeners and removes the Unix sockets it created", async () => {
  const own = await startXapiSimulator();
  const socketPath = join(dir, "own-xapi");
  await own.listenUnix(socketPath);
  expect(existsSync(socketPath)).toBe(true);
  await own.stop();
  expect(existsSync(socketPath)).toBe(false);
  await expect(login(own)).rejects.toThrow(/ECONNREFUSED/);
});

test("a pool member refuses logins with HOST_IS_SLAVE and the master's address", async () => {
  const member = await startXapiSimulator({ masterAddress: "192.0.2.10" });
  try {
    expect(
      await jsonFailure({ sim: member }, "session.login_with_password", [member.username, member.password]),
    ).toEqual(["HOST_IS_SLAVE", "192.0.2.10"]);
  } finally {
    await member.stop();
  }
});
