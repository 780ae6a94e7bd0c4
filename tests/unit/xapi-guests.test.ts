// HVM and PV guests, vanished devices and live operations: what VBD.plug/unplug and VM.start meet
// on a real host (xen-api xapi_vbd_helpers.ml valid_operations, xapi_vbd.ml plug; sm udevSR.py).
import { jsonFailure, jsonResult, login, useXapiSimulator, vbdRecord } from "./xapi-fixture";

const sim = useXapiSimulator({
  gcIntervalMs: 0,
  model: {
    vms: [
      { nameLabel: "hvm-tools", powerState: "Running" },
      { nameLabel: "hvm-bare", powerState: "Running", guest: "hvm-no-pv-drivers" },
      { nameLabel: "hvm-nohotplug", powerState: "Running", guest: "hvm-no-hotplug" },
      { nameLabel: "pv-guest", powerState: "Running", guest: "pv" },
      { nameLabel: "hvm-halted", powerState: "Halted", guest: "hvm-no-pv-drivers" },
    ],
  },
});
const GiB = 1024 ** 3;
let session = "";
let removable = "";
const vms: Record<string, string> = {};

const call = <T = unknown>(method: string, ...args: unknown[]) =>
  jsonResult<T>({ sim: sim() }, method, [session, ...args]);
const failure = (method: string, ...args: unknown[]) =>
  jsonFailure({ sim: sim() }, method, [session, ...args]);

const vm = (name: string): string => {
  const ref = vms[name];
  if (ref === undefined) throw new Error(`no VM ${name}`);
  return ref;
};

/** A passthrough disk scanned into the removable SR, and a VBD for it on `vmName` (not plugged). */
async function diskFor(vmName: string, device: string, mode: "RW" | "RO" = "RW") {
  sim().control.devices.add({ name: device, sizeBytes: GiB });
  await call("SR.scan", removable);
  const records = await call<Record<string, { location: string }>>("VDI.get_all_records");
  const vdi = Object.entries(records).find(
    ([, record]) => record.location === `/dev/xapi/block/${device}`,
  )?.[0];
  const vbd = await call<string>("VBD.create", vbdRecord(vm(vmName), vdi, { mode }));
  return { vdi: vdi as string, vbd };
}

beforeAll(async () => {
  sim().control.profile.set({ name: "slow-plug", methodExtraMs: { "VBD.plug": 300 } });
  session = await login(sim());
  [removable = ""] = await call<string[]>("SR.get_by_name_label", "Removable storage");
  for (const name of ["hvm-tools", "hvm-bare", "hvm-nohotplug", "pv-guest", "hvm-halted"]) {
    [vms[name] = ""] = await call<string[]>("VM.get_by_name_label", name);
  }
});

test("guests expose HVM or PV as XAPI does, with guest metrics saying whether PV drivers run", async () => {
  expect(await call("VM.get_record", vm("hvm-tools"))).toMatchObject({
    domain_type: "hvm",
    HVM_boot_policy: "BIOS order",
  });
  expect(await call("VM.get_record", vm("pv-guest"))).toMatchObject({
    domain_type: "pv",
    HVM_boot_policy: "",
    PV_bootloader: "pygrub",
  });
  const metrics = await call<string>("VM.get_guest_metrics", vm("hvm-tools"));
  expect(await call("VM_guest_metrics.get_record", metrics)).toMatchObject({
    PV_drivers_detected: true,
    PV_drivers_version: { major: "8", minor: "4" },
    can_use_hotplug_vbd: "unspecified",
  });
  const bare = await call<string>("VM.get_guest_metrics", vm("hvm-bare"));
  expect(await call("VM_guest_metrics.get_record", bare)).toMatchObject({
    PV_drivers_detected: false,
    PV_drivers_version: {},
  });
});

test("a Running HVM guest without PV drivers refuses plug and unplug with VM_MISSING_PV_DRIVERS", async () => {
  // xapi_vbd_helpers.ml valid_operations: Running, domain_type hvm, no hot-plug claim and no
  // drivers detected -> Xapi_pv_driver_version.make_error_opt -> VM_MISSING_PV_DRIVERS [vm].
  const { vbd } = await diskFor("hvm-bare", "sdb");
  expect(await failure("VBD.plug", vbd)).toEqual(["VM_MISSING_PV_DRIVERS", vm("hvm-bare")]);
  expect(await call("VBD.get_currently_attached", vbd)).toBe(false);
  const [system] = await call<string[]>("VM.get_VBDs", vm("hvm-bare"));
  expect(await failure("VBD.unplug", system)).toEqual(["VM_MISSING_PV_DRIVERS", vm("hvm-bare")]);
  // The VBD attaches when the VM next starts, or once the drivers appear.
  sim().control.drift.setGuest("hvm-bare", "hvm");
  await call("VBD.plug", vbd);
  expect(await call("VBD.get_currently_attached", vbd)).toBe(true);
});

test("a halted HVM guest without drivers starts with its disk attached", async () => {
  const { vbd } = await diskFor("hvm-halted", "sdc");
  expect(await failure("VBD.plug", vbd)).toEqual([
    "VM_BAD_POWER_STATE",
    vm("hvm-halted"),
    "running",
    "halted",
  ]);
  await call("VM.start", vm("hvm-halted"), false, false);
  expect(await call("VBD.get_currently_attached", vbd)).toBe(true);
});

test("a guest that states it cannot hot-plug VBDs is refused with OPERATION_NOT_ALLOWED", async () => {
  // can_use_hotplug_vbd = no (xenstore feature/hotplug/vbd = 0; xapi_guest_agent.ml).
  const { vbd } = await diskFor("hvm-nohotplug", "sdd");
  expect(await failure("VBD.plug", vbd)).toEqual([
    "OPERATION_NOT_ALLOWED",
    "VM states it does not support VBD hotplug.",
  ]);
});

test("a read-only disk plugged into an HVM guest fails DISK_VBD_MUST_BE_READWRITE_FOR_HVM; a PV guest takes it", async () => {
  // xapi_vbd.ml plug (CA-83260): has_qemu_currently && type <> CD && mode = RO.
  const hvm = await diskFor("hvm-tools", "sde", "RO");
  expect(await failure("VBD.plug", hvm.vbd)).toEqual(["DISK_VBD_MUST_BE_READWRITE_FOR_HVM", hvm.vbd]);
  const pv = await diskFor("pv-guest", "sdf", "RO");
  await call("VBD.plug", pv.vbd);
  expect(await call("VBD.get_currently_attached", pv.vbd)).toBe(true);
  // The operation checks come first: no drivers wins over the read-only rule.
  sim().control.drift.setGuest("hvm-tools", "hvm-no-pv-drivers");
  expect(await failure("VBD.plug", hvm.vbd)).toEqual(["VM_MISSING_PV_DRIVERS", vm("hvm-tools")]);
  sim().control.drift.setGuest("hvm-tools", "hvm");
});

test("a VDI whose device vanished fails plug and VM.start with SR_BACKEND_FAILURE_46, changing nothing", async () => {
  // sm udevSR.py udevVDI: a missing entry marks the VDI deleted; attach raises VDIUnavailable (46).
  const { vdi, vbd } = await diskFor("pv-guest", "sdg");
  sim().control.devices.remove("sdg");
  expect(await call("VDI.get_location", vdi)).toBe("/dev/xapi/block/sdg");
  expect(await failure("VBD.plug", vbd)).toEqual([
    "SR_BACKEND_FAILURE_46",
    "",
    "The VDI is not available",
    "",
  ]);
  expect(await call("VBD.get_currently_attached", vbd)).toBe(false);

  await call("VM.hard_shutdown", vm("pv-guest"));
  expect(await failure("VM.start", vm("pv-guest"), false, false)).toEqual([
    "SR_BACKEND_FAILURE_46",
    "",
    "The VDI is not available",
    "",
  ]);
  expect(await call("VM.get_power_state", vm("pv-guest"))).toBe("Halted");
  sim().control.devices.add({ name: "sdg", sizeBytes: GiB });
  await call("VM.start", vm("pv-guest"), false, false);
  expect(await call("VBD.get_currently_attached", vbd)).toBe(true);
});

test("allowed_operations and current_operations are live", async () => {
  const { vdi, vbd } = await diskFor("hvm-tools", "sdh");
  // xapi_vbd_helpers.ml: an unattached Disk VBD of a Running VM allows attach, plug, pause, unpause.
  expect((await call<string[]>("VBD.get_allowed_operations", vbd)).sort()).toEqual([
    "attach",
    "pause",
    "plug",
    "unpause",
  ]);
  expect((await call<string[]>("VDI.get_allowed_operations", vdi)).sort()).toEqual(["forget", "update"]);
  expect((await call<string[]>("VM.get_allowed_operations", vm("hvm-tools"))).sort()).toEqual([
    "clean_reboot",
    "clean_shutdown",
    "hard_reboot",
    "hard_shutdown",
    "pause",
    "pool_migrate",
    "suspend",
  ]);

  // While the plug runs (300 ms of service time), the VBD shows {task: "plug"} and allows nothing:
  // pause and unpause are safe beside each other only, not beside a plug.
  const task = await call<string>("Async.VBD.plug", vbd);
  let during: Record<string, string> = {};
  for (let tries = 0; tries < 200 && Object.keys(during).length === 0; tries += 1) {
    during = await call<Record<string, string>>("VBD.get_current_operations", vbd);
  }
  expect(during).toEqual({ [task]: "plug" });
  expect(await call("VBD.get_allowed_operations", vbd)).toEqual([]);
  for (let tries = 0; tries < 500; tries += 1) {
    if ((await call("task.get_status", task)) !== "pending") break;
  }
  expect(await call("task.get_status", task)).toBe("success");
  expect(await call("VBD.get_current_operations", vbd)).toEqual({});
  expect((await call<string[]>("VBD.get_allowed_operations", vbd)).sort()).toEqual([
    "attach",
    "pause",
    "unpause",
    "unplug",
    "unplug_force",
  ]);
  // Attached: no forget (VDI_IN_USE upstream).
  expect(await call("VDI.get_allowed_operations", vdi)).toEqual(["update"]);
});

test("VBDs of a halted VM allow nothing but attach", async () => {
  await call("VM.hard_shutdown", vm("hvm-nohotplug"));
  const [system] = await call<string[]>("VM.get_VBDs", vm("hvm-nohotplug"));
  expect(await call("VBD.get_allowed_operations", system)).toEqual(["attach"]);
  expect(await call("VM.get_allowed_operations", vm("hvm-nohotplug"))).toEqual([
    "start",
    "start_on",
    "destroy",
  ]);
});
