// What an independent client (not our provider) sees on the wire, checked against real XAPI:
// complete records, float fields, system.listMethods, event.from's reply shape, and the failures of
// calls XAPI does not know or cannot run asynchronously.
import { UPSTREAM_RECORD_FIELDS } from "./xapi-fidelity-fields";
import { jsonFailure, jsonResult, login, rawPost, useXapiSimulator, vbdRecord } from "./xapi-fixture";

const sim = useXapiSimulator();

function xmlCall(method: string, params: string[]): string {
  const values = params.map((param) => `<param><value>${param}</value></param>`).join("");
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${values}</params></methodCall>`;
}

test.each(Object.entries(UPSTREAM_RECORD_FIELDS))(
  "a %s record carries every field of the real one",
  async (cls, fields) => {
    const session = await login(sim());
    if (cls === "task") await jsonResult({ sim: sim() }, "task.create", [session, "t", ""]);
    const records = await jsonResult<Record<string, Record<string, unknown>>>(
      { sim: sim() },
      cls === "session" ? "session.get_record" : `${cls}.get_all_records`,
      cls === "session" ? [session, session] : [session],
    );
    const record = cls === "session" ? (records as Record<string, unknown>) : Object.values(records)[0];
    expect(record).toBeDefined();
    const missing = fields.filter((field) => !Object.hasOwn(record ?? {}, field));
    expect(missing).toEqual([]);
  },
);

test("a task's progress is an XML-RPC <double> and a JSON number, not a struct", async () => {
  const session = await login(sim());
  const task = await jsonResult<string>({ sim: sim() }, "task.create", [session, "t", ""]);
  expect(await jsonResult({ sim: sim() }, "task.get_progress", [session, task])).toBe(0);
  const xml = await rawPost({ sim: sim() }, "/", "text/xml", xmlCall("task.get_progress", [session, task]));
  expect(xml.body).toContain("<name>Value</name><value><double>0</double></value>");
  // The default VM's HVM_shadow_multiplier is a float too (datamodel_vm.ml: ty Float).
  const [vm] = sim().vms;
  const vmRef = await jsonResult<string>({ sim: sim() }, "VM.get_by_uuid", [session, vm?.uuid]);
  expect(await jsonResult({ sim: sim() }, "VM.get_HVM_shadow_multiplier", [session, vmRef])).toBe(1);
});

test("system.listMethods answers a bare array over XML-RPC (xen-api api_server.ml callback)", async () => {
  const xml = await rawPost({ sim: sim() }, "/", "text/xml", xmlCall("system.listMethods", []));
  expect(xml.body).toMatch(/<methodResponse><params><param><value><array><data>/);
  expect(xml.body).not.toContain("<name>Status</name>");
  expect(xml.body).toContain("VM.get_record");
  expect(xml.body).not.toContain("Async.");
});

test("event.from: ids are strings, timestamps 0.0, ref counts int32s over every table", async () => {
  const session = await login(sim());
  const [vm] = sim().vms;
  const vmRef = await jsonResult<string>({ sim: sim() }, "VM.get_by_uuid", [session, vm?.uuid]);
  const reply = await jsonResult<{
    events: Array<Record<string, unknown>>;
    valid_ref_counts: Record<string, number>;
    token: string;
  }>({ sim: sim() }, "event.from", [session, ["vm"], "", 0]);
  const event = reply.events.find((each) => each["ref"] === vmRef);
  expect(event?.["id"]).toMatch(/^\d+$/);
  expect(event).toMatchObject({ timestamp: "0.0", class: "vm" });
  // xapi_event.ml from_inner counts the rows of every table, not only the subscribed ones.
  expect(typeof reply.valid_ref_counts["vm"]).toBe("number");
  expect(reply.valid_ref_counts["session"]).toBeGreaterThan(0);
  expect(reply.valid_ref_counts["vbd"]).toBeGreaterThan(0);
  const xml = await rawPost(
    { sim: sim() },
    "/",
    "text/xml",
    xmlCall("event.from", [
      session,
      "<array><data><value>vm</value></data></array>",
      "",
      "<double>0</double>",
    ]),
  );
  expect(xml.body).toMatch(/<name>vm<\/name><value><i4>\d+<\/i4><\/value>/);
});

test("event.from with vm/<ref> reports that object only (xapi_event.ml Subscription.Object)", async () => {
  const session = await login(sim());
  const refs = await jsonResult<string[]>({ sim: sim() }, "VM.get_all", [session]);
  const [first, second] = refs;
  const start = await jsonResult<{ token: string }>({ sim: sim() }, "event.from", [session, ["vm"], "", 0]);
  await jsonResult({ sim: sim() }, "VM.add_to_other_config", [session, second, "touched", "1"]);
  await jsonResult({ sim: sim() }, "VM.add_to_other_config", [session, first, "touched", "1"]);
  const reply = await jsonResult<{ events: Array<{ ref: string }> }>({ sim: sim() }, "event.from", [
    session,
    [`VM/${first}`],
    start.token,
    5,
  ]);
  expect(reply.events.map((event) => event.ref)).toEqual([first]);
});

test("get_all_records_where filters on database columns (xen-api db_filter_parse.mly)", async () => {
  const session = await login(sim());
  const where = (cls: string, expr: string) =>
    jsonResult<Record<string, Record<string, unknown>>>({ sim: sim() }, `${cls}.get_all_records_where`, [
      session,
      expr,
    ]);
  const running = await where(
    "VM",
    'field "power_state" = "Running" and not (field "is_control_domain" = "true")',
  );
  expect(Object.values(running).map((vm) => vm["name_label"])).toEqual(["media-server"]);
  // Namespaced fields are named by their column, parts joined with "__".
  const archive = await where("VM", 'field "name__label" = "archive" or false');
  expect(Object.values(archive).map((vm) => vm["power_state"])).toEqual(["Halted"]);
  expect(
    Object.keys(await where("SR", 'field "type" = "udev" and field "content_type" = "disk"')),
  ).toHaveLength(1);
  expect(
    await jsonFailure({ sim: sim() }, "VM.get_all_records_where", [session, 'field "name_label" = "x"']),
  ).toEqual(["INTERNAL_ERROR", "missing field", "name_label", ""]);
  expect(
    (await jsonFailure({ sim: sim() }, "VM.get_all_records_where", [session, 'field "power_state" ='])) ?? [],
  ).toEqual(["INVALID_VALUE", 'field "power_state" =', expect.any(String)]);
});

test("every VM and host has a metrics record, and a VM's follows its power state", async () => {
  const session = await login(sim());
  const call = <T>(method: string, ...params: unknown[]) =>
    jsonResult<T>({ sim: sim() }, method, [session, ...params]);
  for (const host of await call<string[]>("host.get_all"))
    expect(await call("host_metrics.get_live", await call<string>("host.get_metrics", host))).toBe(true);
  const archive = sim().vms.find((vm) => vm.nameLabel === "archive");
  const vm = await call<string>("VM.get_by_uuid", archive?.uuid);
  const metrics = await call<string>("VM.get_metrics", vm);
  expect(await call("VM_metrics.get_record", metrics)).toMatchObject({
    memory_actual: 0,
    current_domain_type: "unspecified",
    start_time: "19700101T00:00:00Z",
  });
  await call("VM.start", vm, false, false);
  expect(await call("VM_metrics.get_record", metrics)).toMatchObject({
    memory_actual: await call<number>("VM.get_memory_dynamic_max", vm),
    VCPUs_number: 1,
    current_domain_type: "hvm",
    hvm: true,
  });
  expect(await call("VM_metrics.get_start_time", metrics)).not.toBe("19700101T00:00:00Z");
  await call("VM.hard_shutdown", vm);
  expect(await call("VM_metrics.get_memory_actual", metrics)).toBe(0);
});

test("host.software_version names XCP-ng 8.3's xapi by its major.minor (xapi_globs.ml software_version)", async () => {
  const session = await login(sim());
  const [host] = await jsonResult<string[]>({ sim: sim() }, "host.get_all", [session]);
  expect(await jsonResult({ sim: sim() }, "host.get_software_version", [session, host])).toMatchObject({
    product_brand: "XCP-ng",
    product_version: "8.3.0",
    platform_name: "XCP",
    xapi: "26.4",
    xapi_build: "26.4.0",
  });
});

test("VM lifecycle checks run in XAPI's order with its messages (xapi_vm_lifecycle.ml)", async () => {
  const session = await login(sim());
  const call = <T>(method: string, ...params: unknown[]) =>
    jsonResult<T>({ sim: sim() }, method, [session, ...params]);
  const failure = (method: string, ...params: unknown[]) =>
    jsonFailure({ sim: sim() }, method, [session, ...params]);
  const archive = await call<string>(
    "VM.get_by_uuid",
    sim().vms.find((vm) => vm.nameLabel === "archive")?.uuid,
  );
  // allowed_power_states: hard_shutdown from paused, suspended or running, all named.
  expect(await failure("VM.hard_shutdown", archive)).toEqual([
    "VM_BAD_POWER_STATE",
    archive,
    "paused, suspended, running",
    "halted",
  ]);
  expect(await failure("VM.hard_reboot", archive)).toEqual([
    "VM_BAD_POWER_STATE",
    archive,
    "paused, running",
    "halted",
  ]);
  // A blocked operation is refused before anything else.
  await call("VM.add_to_blocked_operations", archive, "start", "kept off");
  expect(await failure("VM.start", archive, false, false)).toEqual([
    "OPERATION_BLOCKED",
    archive,
    "kept off",
  ]);
  expect(await call("VM.get_allowed_operations", archive)).toEqual(["start_on", "destroy"]);
  await call("VM.remove_from_blocked_operations", archive, "start");
  // The control domain: the power state is checked first, then "not allowed on a control domain".
  const [dom0] = await call<string[]>("VM.get_by_name_label", "Control domain on host: xp-sandbox-host");
  expect(await failure("VM.start", dom0, false, false)).toEqual([
    "VM_BAD_POWER_STATE",
    dom0,
    "halted",
    "running",
  ]);
  expect(await failure("VM.clean_shutdown", dom0)).toEqual([
    "OPERATION_NOT_ALLOWED",
    "This operation is not allowed on a control domain",
  ]);
  // A reboot keeps the VM running in a new domain.
  await call("VM.start", archive, false, false);
  const domid = await call<number>("VM.get_domid", archive);
  await call("VM.clean_reboot", archive);
  expect(await call("VM.get_power_state", archive)).toBe("Running");
  expect(await call("VM.get_domid", archive)).not.toBe(domid);
  await call("VM.hard_shutdown", archive);
});

test("the stock SRs carry what sm's first-boot storage-init sets (xapi-project/sm tests/test_storage_init.py)", async () => {
  const session = await login(sim());
  const srs = Object.values(
    await jsonResult<Record<string, Record<string, unknown>>>({ sim: sim() }, "SR.get_all_records", [
      session,
    ]),
  );
  const named = (label: string) => srs.find((sr) => sr["name_label"] === label);
  expect(named("Removable storage")).toMatchObject({
    type: "udev",
    content_type: "disk",
    shared: false,
    sm_config: { type: "block" },
    other_config: { "i18n-key": "local-hotplug-disk", "i18n-original-value-name_label": "Removable storage" },
  });
  expect(named("DVD drives")).toMatchObject({
    name_description: "Physical DVD drives",
    other_config: { "i18n-key": "local-hotplug-cd" },
  });
  expect(named("Local storage")?.["other_config"]).toMatchObject({ "i18n-key": "local-storage" });
  const [host] = await jsonResult<string[]>({ sim: sim() }, "host.get_all", [session]);
  const [local] = await jsonResult<string[]>({ sim: sim() }, "SR.get_by_name_label", [
    session,
    "Local storage",
  ]);
  expect(await jsonResult({ sim: sim() }, "host.get_suspend_image_sr", [session, host])).toBe(local);
  expect(await jsonResult({ sim: sim() }, "host.get_crash_dump_sr", [session, host])).toBe(local);
});

test("PBD.unplug refuses while a VM on its host has one of the SR's VDIs attached (xapi_pbd.ml)", async () => {
  const session = await login(sim());
  const call = <T>(method: string, ...params: unknown[]) =>
    jsonResult<T>({ sim: sim() }, method, [session, ...params]);
  const removable = sim().control.state().hosts[0]?.removableSr;
  sim().control.devices.add({ name: "sdz", sizeBytes: 1024 ** 3 });
  await call("SR.scan", removable);
  const [pbd] = await call<string[]>("SR.get_PBDs", removable);
  const [vdi] = await call<string[]>("SR.get_VDIs", removable);
  const server = await call<string>(
    "VM.get_by_uuid",
    sim().vms.find((vm) => vm.nameLabel === "media-server")?.uuid,
  );
  const vbd = await call<string>("VBD.create", vbdRecord(server, vdi ?? ""));
  await call("VBD.plug", vbd);
  expect(await jsonFailure({ sim: sim() }, "PBD.unplug", [session, pbd])).toEqual(["VDI_IN_USE", vdi]);
  await call("VBD.unplug", vbd);
  await call("PBD.unplug", pbd);
  expect(await call("PBD.get_currently_attached", pbd)).toBe(false);
  await call("PBD.unplug", pbd); // already detached: nothing to do
  await call("PBD.plug", pbd);
  expect(await call("PBD.get_currently_attached", pbd)).toBe(true);
  await call("VBD.destroy", vbd);
});
