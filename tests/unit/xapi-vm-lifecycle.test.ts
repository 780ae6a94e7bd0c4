// VM.destroy, VM.suspend (and VBD plug/unplug of a suspended VM) and the legacy event API
// (event.register / event.unregister / event.next), against xen-api xapi_vm.ml, xapi_vm_helpers.ml,
// xapi_vm_lifecycle.ml, xapi_vbd_helpers.ml and xapi_event.ml.
import { createHash } from "node:crypto";
import { jsonFailure, jsonResult, login, rawPost, useXapiSimulator } from "./xapi-fixture";

const sim = useXapiSimulator({ gcIntervalMs: 0 });
let session = "";
const call = <T = unknown>(method: string, ...args: unknown[]) =>
  jsonResult<T>({ sim: sim() }, method, [session, ...args]);
const failure = (method: string, ...args: unknown[]) =>
  jsonFailure({ sim: sim() }, method, [session, ...args]);

async function vmNamed(name: string): Promise<string> {
  const [vm = ""] = await call<string[]>("VM.get_by_name_label", name);
  return vm;
}

beforeAll(async () => {
  session = await login(sim());
});

describe("VM.suspend", () => {
  test("a Running VM becomes Suspended, its disks unplugged; VBD plug/unplug then fail VM_BAD_POWER_STATE", async () => {
    const media = await vmNamed("media-server");
    const [vbd = ""] = await call<string[]>("VM.get_VBDs", media);
    expect(await call("VBD.get_currently_attached", vbd)).toBe(true);
    await call("VM.suspend", media);
    expect(await call("VM.get_power_state", media)).toBe("Suspended");
    expect(await call("VBD.get_currently_attached", vbd)).toBe(false);
    // xapi_vbd_helpers.ml valid_operations: plug and unplug need a Running VM.
    expect(await failure("VBD.plug", vbd)).toEqual(["VM_BAD_POWER_STATE", media, "running", "suspended"]);
    expect(await failure("VBD.unplug", vbd)).toEqual(["VM_BAD_POWER_STATE", media, "running", "suspended"]);
    // xapi_vm_lifecycle.ml allowed_power_states: suspend needs Running.
    expect(await failure("VM.suspend", media)).toEqual(["VM_BAD_POWER_STATE", media, "running", "suspended"]);
    expect(await call<string[]>("VM.get_allowed_operations", media)).toEqual(
      expect.arrayContaining(["hard_shutdown", "destroy"]),
    );
  });

  test("a Halted VM cannot be suspended", async () => {
    const archive = await vmNamed("archive");
    expect(await failure("VM.suspend", archive)).toEqual([
      "VM_BAD_POWER_STATE",
      archive,
      "running",
      "halted",
    ]);
  });
});

describe("VM.destroy", () => {
  test("a Running VM or the control domain is refused; nothing changes", async () => {
    const [guest] = await call<string[]>("VM.get_by_name_label", "archive");
    await call("VM.start", guest, false, false);
    expect(await failure("VM.destroy", guest)).toEqual([
      "VM_BAD_POWER_STATE",
      guest,
      "halted, suspended",
      "running",
    ]);
    await call("VM.hard_shutdown", guest);
    const records = await call<Record<string, { is_control_domain: boolean }>>("VM.get_all_records");
    const dom0 = Object.keys(records).find((ref) => records[ref]?.is_control_domain);
    expect((await failure("VM.destroy", dom0))?.[0]).toBe("VM_BAD_POWER_STATE");
  });

  test("a Halted VM goes with its VBDs and metrics; its VDIs stay", async () => {
    const archive = await vmNamed("archive");
    const record = await call<{ VBDs: string[]; metrics: string }>("VM.get_record", archive);
    const vdis = await Promise.all(record.VBDs.map((vbd) => call<string>("VBD.get_VDI", vbd)));
    await call("VM.destroy", archive);
    expect(await failure("VM.get_record", archive)).toEqual(["HANDLE_INVALID", "VM", archive]);
    for (const vbd of record.VBDs)
      expect(await failure("VBD.get_record", vbd)).toEqual(["HANDLE_INVALID", "VBD", vbd]);
    expect(await failure("VM_metrics.get_record", record.metrics)).toEqual([
      "HANDLE_INVALID",
      "VM_metrics",
      record.metrics,
    ]);
    for (const vdi of vdis) expect(await call("VDI.get_uuid", vdi)).toEqual(expect.any(String));
  });

  test("a Suspended VM can be destroyed", async () => {
    const media = await vmNamed("media-server");
    expect(await call("VM.get_power_state", media)).toBe("Suspended");
    await call("VM.destroy", media);
    expect(await call("VM.get_by_name_label", "media-server")).toEqual([]);
  });
});

describe("the legacy event API", () => {
  test("event.next without event.register fails SESSION_NOT_REGISTERED [trackid]", async () => {
    const other = await login(sim());
    const trackid = `trackid=${createHash("md5").update(other).digest("hex")}`;
    expect(await jsonFailure({ sim: sim() }, "event.next", [other])).toEqual([
      "SESSION_NOT_REGISTERED",
      trackid,
    ]);
  });

  test("event.next returns the registered classes' events since the last call, blocking until one", async () => {
    const own = await login(sim());
    const ownCall = <T = unknown>(method: string, ...args: unknown[]) =>
      jsonResult<T>({ sim: sim() }, method, [own, ...args]);
    await ownCall("event.register", ["vm"]);
    const [sr] = await ownCall<string[]>("SR.get_all");
    const [vm] = await ownCall<string[]>("VM.get_all");
    const pending = ownCall<Array<Record<string, unknown>>>("event.next");
    await ownCall("SR.set_name_description", sr, "not subscribed");
    await ownCall("VM.set_name_description", vm, "changed");
    const events = await pending;
    expect(events.map((event) => [event["class"], event["operation"], event["ref"]])).toEqual([
      ["vm", "mod", vm],
    ]);
    const [event = {}] = events;
    expect(event["id"]).toMatch(/^\d+$/);
    expect(event["timestamp"]).toMatch(/^\d+\.$/);
    expect(event["snapshot"]).toMatchObject({ name_description: "changed" });
    // unregister leaves the session registered with nothing to wait for: a later change of an
    // unsubscribed class is not reported.
    await ownCall("event.unregister", ["vm"]);
    await ownCall("event.register", ["sr"]);
    await ownCall("SR.set_name_description", sr, "now subscribed");
    const next = await ownCall<Array<Record<string, unknown>>>("event.next");
    expect(next.map((event) => [event["class"], event["ref"]])).toEqual([["sr", sr]]);
  });

  test("over XML-RPC, event.next answers an array of structs", async () => {
    const own = await login(sim());
    await jsonResult({ sim: sim() }, "event.register", [own, ["host"]]);
    const [host] = await jsonResult<string[]>({ sim: sim() }, "host.get_all", [own]);
    await jsonResult({ sim: sim() }, "host.set_name_description", [own, host, "x"]);
    const body = `<?xml version="1.0"?><methodCall><methodName>event.next</methodName><params><param><value>${own}</value></param></params></methodCall>`;
    const reply = await rawPost({ sim: sim() }, "/", "text/xml", body);
    expect(reply.body).toContain("<name>Status</name><value>Success</value>");
    expect(reply.body).toMatch(/<name>Value<\/name><value><array><data><value><struct>/);
    expect(reply.body).toContain("<name>class</name><value>host</value>");
  });
});
