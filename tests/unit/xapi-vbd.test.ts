// VBD.create / plug / unplug / destroy: XAPI's rules and error codes, and the back-references.
import { jsonFailure, jsonResult, login, useXapiSimulator, vbdRecord } from "./xapi-fixture";

const sim = useXapiSimulator();
const GiB = 1024 ** 3;
let session = "";
let media = ""; // Running guest with its system disk as userdevice 0
let archive = ""; // Halted guest
let removable = "";

const call = <T = unknown>(method: string, ...args: unknown[]) =>
  jsonResult<T>({ sim: sim() }, method, [session, ...args]);
const failure = (method: string, ...args: unknown[]) =>
  jsonFailure({ sim: sim() }, method, [session, ...args]);

/** Our tests' VBD record: tagged, as the provider tags its own. */
const taggedVbd = (vm: string, vdi: string, overrides: Record<string, unknown> = {}) =>
  vbdRecord(vm, vdi, { other_config: { "xp:owner": "test" }, ...overrides });

/** A fresh passthrough disk: a directory entry, scanned into a VDI of the removable SR. */
async function newDisk(name: string): Promise<string> {
  sim().control.devices.add({ name, sizeBytes: GiB });
  await call("SR.scan", removable);
  const vdis = await call<Record<string, { location: string }>>("VDI.get_all_records");
  const found = Object.entries(vdis).find(([, vdi]) => vdi.location === `/dev/xapi/block/${name}`);
  if (found === undefined) throw new Error(`no VDI for ${name}`);
  return found[0];
}

beforeAll(async () => {
  session = await login(sim());
  [media = ""] = await call<string[]>("VM.get_by_name_label", "media-server");
  [archive = ""] = await call<string[]>("VM.get_by_name_label", "archive");
  [removable = ""] = await call<string[]>("SR.get_by_name_label", "Removable storage");
});

test("create resolves autodetect to the first allowed device and leaves device empty until plug", async () => {
  expect((await call<string[]>("VM.get_allowed_VBD_devices", media)).slice(0, 2)).toEqual(["1", "2"]);
  const vdi = await newDisk("sdb");
  const vbd = await call<string>("VBD.create", taggedVbd(media, vdi));
  expect(await call("VBD.get_record", vbd)).toMatchObject({
    VM: media,
    VDI: vdi,
    userdevice: "1",
    device: "",
    mode: "RW",
    type: "Disk",
    unpluggable: true,
    currently_attached: false,
    other_config: { "xp:owner": "test" },
  });
  expect(await call("VM.get_VBDs", media)).toContain(vbd);
  expect(await call("VDI.get_VBDs", vdi)).toEqual([vbd]);
  expect(await call("VM.get_allowed_VBD_devices", media)).not.toContain("1");

  await call("VBD.plug", vbd);
  expect(await call("VBD.get_device", vbd)).toBe("xvdb");
  expect(await call("VBD.get_currently_attached", vbd)).toBe(true);
});

test("create refuses a taken userdevice (in any spelling) and a malformed one", async () => {
  const vdi = await newDisk("sdc");
  expect(await failure("VBD.create", taggedVbd(media, vdi, { userdevice: "0" }))).toEqual([
    "DEVICE_ALREADY_EXISTS",
    "0",
  ]);
  expect(await failure("VBD.create", taggedVbd(media, vdi, { userdevice: "xvda" }))).toEqual([
    "DEVICE_ALREADY_EXISTS",
    "xvda",
  ]);
  expect(await failure("VBD.create", taggedVbd(media, vdi, { userdevice: "disk-one" }))).toEqual([
    "INVALID_DEVICE",
    "disk-one",
  ]);
  expect(await failure("VBD.create", taggedVbd("OpaqueRef:gone", vdi))).toEqual([
    "HANDLE_INVALID",
    "VM",
    "OpaqueRef:gone",
  ]);
  expect(await failure("VBD.create", taggedVbd(media, vdi, { type: "CD" }))).toEqual([
    "VBD_CDS_MUST_BE_READONLY",
  ]);
});

test("slots clash by (bus, disk, partition) over every VBD's device and userdevice", async () => {
  // media-server has userdevice "0" and, from the first test, "1" plugged as device "xvdb".
  const vdi = await newDisk("sde");
  const refused = async (userdevice: string) =>
    expect(await failure("VBD.create", taggedVbd(media, vdi, { userdevice }))).toEqual([
      "DEVICE_ALREADY_EXISTS",
      userdevice,
    ]);
  const created = async (userdevice: string) => {
    const vbd = await call<string>("VBD.create", taggedVbd(media, vdi, { userdevice }));
    return vbd;
  };
  await refused("xvdb");
  // xen-api device_number.ml of_string: "1" is Ide 1 (as for an HVM guest) and Xen 1 (as for a PV
  // one); "sdb" is Scsi 1, another slot; "hdc" (Ide 2) and "xvdc" (Xen 2) differ, and "2" takes both.
  const scsi = await created("sdb");
  const ide = await created("hdc");
  const xen = await created("xvdc");
  await refused("2");
  await refused("d2");
  // A partition is a slot of its own.
  const partition = await created("xvdd1");
  for (const vbd of [scsi, ide, xen, partition]) await call("VBD.destroy", vbd);

  // xapi_vm_helpers.ml all_used_VBD_devices: a VBD's device counts as well as its userdevice.
  const plugged = await created("5");
  await call("VBD.plug", plugged);
  expect(await call("VBD.get_device", plugged)).toBe("xvdf");
  await call("VBD.set_userdevice", plugged, "6");
  await refused("5");
  await refused("6");
  await call("VBD.unplug", plugged);
  await call("VBD.destroy", plugged);
});

test("a plug that meets another operation on its VDI waits for it to end, then checks again", async () => {
  const vdi = await newDisk("sdf");
  const vbd = await call<string>("VBD.create", taggedVbd(media, vdi, { userdevice: "7" }));
  const saved = sim().control.profile.get();
  const slowForget = { ...saved.methodExtraMs, "VDI.forget": 300 };
  sim().control.profile.set({ ...saved, name: "slow-forget", methodExtraMs: slowForget });
  try {
    await call("Async.VDI.forget", vdi);
    const forgetting = async () =>
      Object.values(await call<Record<string, string>>("VDI.get_current_operations", vdi)).includes("forget");
    while (!(await forgetting())) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    // xen-api message_forwarding.ml with_vbd_marked retries OTHER_OPERATION_IN_PROGRESS
    // (helpers.ml retry_with_global_lock): the plug sees the VDI gone, not the forget running.
    expect(await failure("VBD.plug", vbd)).toEqual(["HANDLE_INVALID", "VDI", vdi]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  } finally {
    sim().control.profile.set(saved);
  }
  await call("VBD.destroy", vbd);
});

test("plug and unplug need a running VM", async () => {
  const vdi = await newDisk("sdd");
  const vbd = await call<string>("VBD.create", taggedVbd(archive, vdi));
  expect(await failure("VBD.plug", vbd)).toEqual(["VM_BAD_POWER_STATE", archive, "running", "halted"]);
  expect(await failure("VBD.unplug", vbd)).toEqual(["VM_BAD_POWER_STATE", archive, "running", "halted"]);
  await call("VBD.destroy", vbd);
});

test("attachment rules: already attached, already detached, not unpluggable, destroy while attached", async () => {
  const vdi = await newDisk("sde");
  const vbd = await call<string>("VBD.create", taggedVbd(media, vdi, { unpluggable: false }));
  expect(await failure("VBD.unplug", vbd)).toEqual(["VBD_NOT_UNPLUGGABLE", vbd]);
  await call("VBD.set_unpluggable", vbd, true);
  expect(await failure("VBD.unplug", vbd)).toEqual(["DEVICE_ALREADY_DETACHED", vbd]);
  await call("VBD.plug", vbd);
  expect(await failure("VBD.plug", vbd)).toEqual(["DEVICE_ALREADY_ATTACHED", vbd]);
  const destroyRefusal = await failure("VBD.destroy", vbd);
  expect(destroyRefusal?.[0]).toBe("OPERATION_NOT_ALLOWED");
  expect(destroyRefusal?.[1]).toContain(await call<string>("VBD.get_uuid", vbd));
  await call("VBD.unplug", vbd);
  expect(await call("VBD.get_currently_attached", vbd)).toBe(false);
  await call("VBD.plug", vbd);
  await call("VBD.unplug_force", vbd);
  await call("VBD.destroy", vbd);
  expect(await call("VDI.get_VBDs", vdi)).toEqual([]);
});

test("a VDI attached read-write elsewhere is in use", async () => {
  const vdi = await newDisk("sdf");
  await call("VM.start", archive, false, false);
  const first = await call<string>("VBD.create", taggedVbd(media, vdi));
  const second = await call<string>("VBD.create", taggedVbd(archive, vdi));
  await call("VBD.plug", first);
  expect(await failure("VBD.plug", second)).toEqual(["VDI_IN_USE", vdi]);
  await call("VBD.unplug", first);
  await call("VBD.plug", second);
  await call("VM.hard_shutdown", archive);
});

test("shutting a VM down detaches its VBDs", async () => {
  await call("VM.start", archive, false, false);
  const vdi = await newDisk("sdg");
  const vbd = await call<string>("VBD.create", taggedVbd(archive, vdi));
  await call("VBD.plug", vbd);
  await call("VM.clean_shutdown", archive);
  expect(await call("VM.get_power_state", archive)).toBe("Halted");
  expect(await call("VBD.get_currently_attached", vbd)).toBe(false);
  expect(await failure("VM.clean_shutdown", archive)).toEqual([
    "VM_BAD_POWER_STATE",
    archive,
    "running",
    "halted",
  ]);
  expect(await failure("VM.start", media, false, false)).toEqual([
    "VM_BAD_POWER_STATE",
    media,
    "halted",
    "running",
  ]);
  const dom0 = sim()
    .control.state()
    .vms.find((vm) => vm.isControlDomain)?.ref;
  expect((await failure("VM.hard_shutdown", dom0))?.[0]).toBe("OPERATION_NOT_ALLOWED");
});

test("other_config map operations", async () => {
  const [vbd] = await call<string[]>("VM.get_VBDs", media);
  await call("VBD.add_to_other_config", vbd, "xp:k", "v");
  expect(await failure("VBD.add_to_other_config", vbd, "xp:k", "w")).toEqual([
    "MAP_DUPLICATE_KEY",
    "VBD",
    "other_config",
    vbd,
    "xp:k",
  ]);
  await call("VBD.remove_from_other_config", vbd, "xp:k");
  await call("VBD.set_other_config", vbd, { a: "b" });
  expect(await call("VBD.get_other_config", vbd)).toEqual({ a: "b" });
});
