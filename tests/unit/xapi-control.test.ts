// The control surface: fault rules, the call trace, drift, profiles, and the HTTP endpoint.
import {
  jsonFailure,
  jsonResult,
  login,
  rawPost,
  rawRequest,
  useXapiSimulator,
  controlRequest,
} from "./xapi-fixture";

const sim = useXapiSimulator({ gcIntervalMs: 0 });
let session = "";
let media = "";

const call = <T = unknown>(method: string, ...args: unknown[]) =>
  jsonResult<T>({ sim: sim() }, method, [session, ...args]);
const failure = (method: string, ...args: unknown[]) =>
  jsonFailure({ sim: sim() }, method, [session, ...args]);

const control = (method: string, path: string, body?: unknown) => controlRequest(sim(), method, path, body);

beforeAll(async () => {
  session = await login(sim());
  [media = ""] = await call<string[]>("VM.get_by_name_label", "media-server");
});
afterEach(() => {
  sim().control.faults.clear();
});

test("an error rule answers the matching calls with its XAPI error, for `count` calls after `skip`", async () => {
  sim().control.faults.add({
    method: "VM.get_power_state",
    nameLabel: "media-server",
    action: { error: { code: "SR_BACKEND_FAILURE_46", params: ["", "The VDI is not available", ""] } },
    skip: 1,
    count: 2,
  });
  const [archive] = await call<string[]>("VM.get_by_name_label", "archive");
  expect(await call("VM.get_power_state", archive)).toBe("Halted"); // other object: no match
  expect(await call("VM.get_power_state", media)).toBe("Running"); // skipped
  const expected = ["SR_BACKEND_FAILURE_46", "", "The VDI is not available", ""];
  expect(await failure("VM.get_power_state", media)).toEqual(expected);
  expect(await failure("VM.get_power_state", media)).toEqual(expected);
  expect(await call("VM.get_power_state", media)).toBe("Running"); // count used up
  expect(sim().control.faults.list()[0]).toMatchObject({ seen: 4, hits: 2 });
});

test("a drop rule closes the connection without a reply", async () => {
  sim().control.faults.add({ method: "VM.*", action: "drop", count: 1 });
  await expect(call("VM.get_all")).rejects.toThrow(/socket hang up|ECONNRESET/);
  expect(await call<string[]>("VM.get_all")).toHaveLength(3);
});

test("probability 0 never fires, probability 1 always does", async () => {
  sim().control.faults.add({
    method: "host.get_all",
    action: { error: { code: "NEVER", params: [] } },
    probability: 0,
  });
  sim().control.faults.add({
    method: "pool.get_all",
    action: { error: { code: "ALWAYS", params: [] } },
    probability: 1,
  });
  for (let i = 0; i < 5; i += 1) {
    expect(await call<string[]>("host.get_all")).toHaveLength(1);
    expect(await failure("pool.get_all")).toEqual(["ALWAYS"]);
  }
});

test("a delay-only rule lets the call through and counts its hits", async () => {
  sim().control.faults.add({ method: "pool.get_all", action: "delay-only", delayMs: 1, count: 1 });
  expect(await call<string[]>("pool.get_all")).toHaveLength(1);
  expect(await call<string[]>("pool.get_all")).toHaveLength(1);
  expect(sim().control.faults.list()[0]).toMatchObject({ seen: 2, hits: 1 });
});

test("the trace records every call with its session, object and outcome, and counts them", async () => {
  sim().control.trace.reset();
  const other = await login(sim());
  await call("VM.get_record", media);
  await failure("VM.get_record", "OpaqueRef:missing");
  await jsonResult({ sim: sim() }, "VM.get_all", [other]);
  const trace = sim().control.trace.get();
  expect(trace.logins).toBe(1);
  expect(trace.countsByMethod).toEqual({
    "session.login_with_password": 1,
    "VM.get_record": 2,
    "VM.get_all": 1,
  });
  expect(trace.countsBySession).toEqual({ [session]: 2, [other]: 1 });
  const [ok, bad] = trace.calls.filter((entry) => entry.method === "VM.get_record");
  expect(ok).toMatchObject({ session, ref: media, transport: "tls", outcome: { status: "success" } });
  expect(bad?.outcome).toEqual({
    status: "failure",
    code: "HANDLE_INVALID",
    params: ["VM", "OpaqueRef:missing"],
  });
});

test("drift changes state behind the API's back", async () => {
  const [vbd] = await call<string[]>("VM.get_VBDs", media);
  sim().control.drift.unplugVbd(String(vbd));
  expect(await call("VBD.get_currently_attached", vbd)).toBe(false);
  sim().control.drift.setPowerState("media-server", "Halted");
  expect(await call("VM.get_power_state", media)).toBe("Halted");
  sim().control.drift.setPowerState("media-server", "Running");
  const vdi = await call<string>("VBD.get_VDI", vbd);
  sim().control.drift.forgetVdi(vdi);
  // As `xe vdi-forget`: the VBD stays, with its dead VDI ref, until the database GC runs.
  expect(await call("VBD.get_VDI", vbd)).toBe(vdi);
  expect(sim().control.gc.run().destroyedVbds).toEqual([vbd]);
  expect(await failure("VBD.get_record", vbd)).toEqual(["HANDLE_INVALID", "VBD", vbd]);
  expect(() => sim().control.drift.destroyVbd("OpaqueRef:none")).toThrow(/no VBD/);

  const [archive] = await call<string[]>("VM.get_by_name_label", "archive");
  const [archiveVbd] = await call<string[]>("VM.get_VBDs", archive);
  sim().control.drift.destroyVm("archive");
  expect(await failure("VM.get_record", archive)).toEqual(["HANDLE_INVALID", "VM", archive]);
  expect(await failure("VBD.get_record", archiveVbd)).toEqual(["HANDLE_INVALID", "VBD", archiveVbd]);
  expect(() =>
    sim().control.drift.destroyVm(
      sim()
        .control.state()
        .vms.find((vm) => vm.isControlDomain)?.ref ?? "",
    ),
  ).toThrow(/control domain/);
});

test("the HTTP control endpoint exposes state, trace, faults, drift, devices and the profile", async () => {
  expect((await control("GET", "/state")).body).toMatchObject({ host: { uuid: sim().host.uuid } });
  const added = await control("POST", "/faults", {
    method: "SR.scan",
    action: { error: { code: "SR_BACKEND_FAILURE_40", params: [] } },
  });
  expect(added.status).toBe(200);
  expect(typeof (added.body as { id: unknown }).id).toBe("string");
  const [removable] = await call<string[]>("SR.get_by_name_label", "Removable storage");
  expect(await failure("SR.scan", removable)).toEqual(["SR_BACKEND_FAILURE_40"]);
  expect((await control("DELETE", `/faults/${(added.body as { id: string }).id}`)).body).toEqual({
    removed: true,
  });
  await call("SR.scan", removable);

  expect(
    (await control("POST", "/devices", { name: "sdx", sizeBytes: 4096, nameLabel: "SCSI 9:0:0:0" })).status,
  ).toBe(200);
  await call("SR.scan", removable);
  expect(await call<string[]>("SR.get_VDIs", removable)).toHaveLength(1);
  expect((await control("DELETE", "/devices/sdx")).body).toEqual({ removed: true });

  expect((await control("POST", "/drift/setPowerState", { target: media, state: "Paused" })).status).toBe(
    200,
  );
  expect(await call("VM.get_power_state", media)).toBe("Paused");
  await control("POST", "/drift/setPowerState", { target: media, state: "Running" });
  expect(await control("POST", "/drift/explode", { target: media })).toMatchObject({ status: 400 });
  expect(
    await control("POST", "/drift/setPowerState", { target: "no-such-vm", state: "Running" }),
  ).toMatchObject({
    status: 400,
  });

  expect((await control("PUT", "/profile", { name: "realistic" })).body).toMatchObject({ name: "realistic" });
  expect(
    (await control("PUT", "/profile", { name: "slow-scan", methodExtraMs: { "SR.scan": 1 } })).body,
  ).toMatchObject({
    name: "slow-scan",
    baseLatencyMs: 0,
    methodExtraMs: { "SR.scan": 1 },
  });
  expect((await control("PUT", "/profile", { name: "nonsense" })).status).toBe(400);
  expect((await control("PUT", "/profile", { name: "zero" })).body).toMatchObject({
    name: "zero",
    baseLatencyMs: 0,
  });

  const trace = (await control("GET", "/trace")).body as { countsByMethod: Record<string, number> };
  expect(trace.countsByMethod["SR.scan"]).toBeGreaterThanOrEqual(3);
  await control("POST", "/trace/reset");
  expect(((await control("GET", "/trace")).body as { calls: unknown[] }).calls).toEqual([]);
  expect((await control("GET", "/nowhere")).status).toBe(404);

  expect((await control("GET", "/gc")).body).toEqual({ intervalMs: 0 });
  expect((await control("POST", "/gc")).body).toEqual({
    destroyedVbds: [],
    emptiedVbds: [],
    destroyedVdis: [],
  });
  expect((await control("PUT", "/gc", { intervalMs: -1 })).status).toBe(400);
  expect((await control("PUT", "/gc", { intervalMs: 0 })).body).toEqual({ intervalMs: 0 });
  expect(
    (await control("POST", "/drift/setGuest", { target: media, kind: "hvm-no-pv-drivers" })).status,
  ).toBe(200);
  expect((await control("POST", "/drift/setGuest", { target: media, kind: "windows" })).status).toBe(400);
  expect(
    await call("VM_guest_metrics.get_PV_drivers_detected", await call("VM.get_guest_metrics", media)),
  ).toBe(false);
  expect((await control("POST", "/drift/setGuest", { target: media, kind: "pv" })).status).toBe(400);
  sim().control.drift.setGuest(media, "hvm");
});

test("the XAPI listener refuses non-POST requests and answers malformed JSON with a JSON-RPC parse error", async () => {
  expect((await rawRequest({ sim: sim() }, "GET", "/", "text/plain", "")).status).toBe(405);
  const plain = await rawPost({ sim: sim() }, "/jsonrpc", "application/json", "{not json");
  expect(JSON.parse(plain.body)).toMatchObject({ error: { code: -32700 } });
});
