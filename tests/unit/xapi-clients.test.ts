// The npm xen-api client, unmodified, against the simulator over each wire protocol: connect with
// event watching on, plain calls, callAsync with task results, and XAPI's error shapes.
import type { Xapi, XapiErrorShape } from "xen-api";
import { connectClient, eventually, useXapiSimulator } from "./xapi-fixture";
import type { Transport } from "./xapi-fixture";

const sim = useXapiSimulator();

function cached(xapi: Xapi, type: string): Array<Record<string, unknown>> {
  return Object.values(xapi.objects.all).filter((object) => object.$type === type);
}

async function failureOf(promise: Promise<unknown>): Promise<Pick<XapiErrorShape, "code" | "params">> {
  try {
    await promise;
  } catch (error) {
    const { code, params } = error as XapiErrorShape;
    return { code, params };
  }
  throw new Error("the call succeeded but a XAPI failure was expected");
}

describe.each<Transport>(["json-rpc", "xml-rpc"])("xen-api client over %s", (transport) => {
  let xapi: Xapi;
  beforeAll(async () => {
    xapi = await connectClient(sim(), transport, { debounce: 10 });
    await xapi.objectsFetched;
  });
  afterAll(async () => {
    await xapi.disconnect();
  });

  test("connects with events on and caches every class it found through system.listMethods", () => {
    expect(xapi.status).toBe("connected");
    const vmNames = cached(xapi, "VM").map((vm) => vm["name_label"]);
    expect(vmNames).toEqual(expect.arrayContaining(["media-server", "archive"]));
    const [host] = cached(xapi, "host");
    expect(host?.["uuid"]).toBe(sim().host.uuid);
    const srNames = cached(xapi, "SR").map((sr) => sr["name_label"]);
    expect(srNames).toEqual(expect.arrayContaining(["Local storage", "Removable storage", "DVD drives"]));
  });

  test("plain calls return records, refs and maps", async () => {
    const vms = await xapi.call<Record<string, Record<string, unknown>>>("VM.get_all_records");
    const dom0 = Object.values(vms).find((vm) => vm["is_control_domain"] === true);
    expect(dom0?.["power_state"]).toBe("Running");
    const removable = await xapi.call<string[]>("SR.get_by_name_label", "Removable storage");
    expect(removable).toHaveLength(1);
    const smConfig = await xapi.call<Record<string, string>>("SR.get_sm_config", removable[0]);
    expect(smConfig).toEqual({ type: "block" });
  });

  test("strings survive the wire exactly: whitespace, markup characters, empty", async () => {
    const [archive] = await xapi.call<string[]>("VM.get_by_name_label", "archive");
    for (const text of ["  two  spaces\n", "<b> & 'q' \"dq\"", ""]) {
      await xapi.call("VM.set_name_description", archive, text);
      expect(await xapi.call("VM.get_name_description", archive)).toBe(text);
    }
  });

  test("callAsync runs Async.* through a task and returns the result XAPI stores in it", async () => {
    const [archive] = await xapi.call<string[]>("VM.get_by_name_label", "archive");
    await xapi.callAsync("VM.start", archive, false, false);
    expect(await xapi.call("VM.get_power_state", archive)).toBe("Running");
    const [vdi] = await xapi.call<string[]>("VDI.get_all");
    const vbd = await xapi.callAsync<string>("VBD.create", {
      VM: archive,
      VDI: vdi,
      userdevice: "autodetect",
      bootable: false,
      mode: "RO",
      type: "Disk",
      empty: false,
      other_config: { "xp:test": transport },
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
    expect(vbd).toMatch(/^OpaqueRef:/);
    expect(await xapi.call("VBD.get_other_config", vbd)).toEqual({ "xp:test": transport });
    await xapi.call("VBD.destroy", vbd);
    await xapi.callAsync("VM.hard_shutdown", archive);
  });

  test("a failing Async call rejects with the task's error_info as code and params", async () => {
    const [archive] = await xapi.call<string[]>("VM.get_by_name_label", "archive");
    const failure = await failureOf(xapi.callAsync("VM.clean_shutdown", archive));
    expect(failure).toEqual({ code: "VM_BAD_POWER_STATE", params: [archive, "running", "halted"] });
  });

  test("errors carry XAPI's code and params", async () => {
    expect(await failureOf(xapi.call("VM.get_record", "OpaqueRef:nope"))).toEqual({
      code: "HANDLE_INVALID",
      params: ["VM", "OpaqueRef:nope"],
    });
    expect(await failureOf(xapi.call("VM.no_such_method"))).toEqual({
      code: "MESSAGE_METHOD_UNKNOWN",
      params: ["VM.no_such_method"],
    });
  });

  test("changes reach the client's cache through event.from", async () => {
    const [archive] = await xapi.call<string[]>("VM.get_by_name_label", "archive");
    const key = `xp:seen-${transport}`;
    await xapi.call("VM.add_to_other_config", archive, key, transport);
    const record = () => cached(xapi, "VM").find((vm) => vm["$ref"] === archive);
    await eventually(
      () => (record()?.["other_config"] as Record<string, string>)[key] === transport,
      "the event arrived",
    );
    sim().control.drift.setPowerState(String(archive), "Paused");
    await eventually(() => record()?.["power_state"] === "Paused", "the drift event arrived");
    sim().control.drift.setPowerState(String(archive), "Halted");
    await eventually(() => record()?.["power_state"] === "Halted", "the second drift event arrived");
  });
});

test("a wrong password is refused with SESSION_AUTHENTICATION_FAILED", async () => {
  const { createClient } = await import("xen-api");
  const xapi = createClient({
    url: sim().url,
    auth: { user: "root", password: "wrong" },
    allowUnauthorized: true,
    watchEvents: false,
  });
  expect(await failureOf(xapi.connect())).toEqual({
    code: "SESSION_AUTHENTICATION_FAILED",
    params: ["root", "Authentication failure"],
  });
  await xapi.disconnect();
});
