// USB passthrough over time in the XAPI simulator: PUSB.scan as sticks come, go and move (ports
// and hosts), VUSB.unplug and its errors, what VM.start, VM.pool_migrate and a host reboot do to
// VUSBs, and the control surface that moves sticks (docs/usb-passthrough.md).
import { DEFAULT_USB_DEVICE } from "xen-sandbox";
import type { UsbDevice } from "xen-sandbox";
import { controlRequest, jsonFailure, jsonResult, login, useXapiSimulator } from "./xapi-fixture";

type Rec = Record<string, unknown>;

const ups: UsbDevice = {
  ...DEFAULT_USB_DEVICE,
  vendorId: "0764",
  productId: "0501",
  serial: "CPS-UPS-0042",
  vendorDesc: "Cyber Power System, Inc.",
  productDesc: "CP1500 AVR UPS",
  path: "1-4",
  deviceClass: "00",
  speed: 1.5,
};

const sim = useXapiSimulator({
  hostNameLabel: "master",
  members: [{ hostNameLabel: "member-1" }],
  model: {
    vms: [
      { nameLabel: "home-assistant", powerState: "Halted" },
      { nameLabel: "nut", powerState: "Halted" },
      { nameLabel: "pv-guest", powerState: "Halted", guest: "pv" },
    ],
  },
});

let session = "";
const call = <T = unknown>(method: string, ...args: unknown[]) =>
  jsonResult<T>({ sim: sim() }, method, [session, ...args]);
const failure = (method: string, ...args: unknown[]) =>
  jsonFailure({ sim: sim() }, method, [session, ...args]);

const hostUuid = (name: string) => sim().hosts.find((host) => host.nameLabel === name)?.uuid ?? "";
const hostRef = (name: string) => sim().hosts.find((host) => host.nameLabel === name)?.ref ?? "";
const vmRef = async (name: string) => (await call<string[]>("VM.get_by_name_label", name))[0] ?? "";

/** The PUSB at `path` on host `host` (by name), if XAPI has one. */
async function pusbAt(host: string, path: string): Promise<[string, Rec] | undefined> {
  const records = await call<Record<string, Rec>>("PUSB.get_all_records");
  return Object.entries(records).find(
    ([, record]) => record["host"] === hostRef(host) && record["path"] === path,
  );
}

/** PUSB.scan returns before the scan ran: wait (bounded) until `done` holds. */
async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting until ${what}`);
}

beforeAll(async () => {
  session = await login(sim());
});

test("PUSB.scan picks up a stick plugged in and drops one pulled out with its group; the policy still hides a hub", async () => {
  sim().control.usb.plug(hostUuid("master"), ups);
  sim().control.usb.plug(hostUuid("master"), {
    ...ups,
    path: "1-5",
    deviceClass: "09",
    vendorId: "05e3",
    productId: "0608",
    serial: "",
  });
  expect(await pusbAt("master", "1-4")).toBeUndefined(); // XAPI has not scanned yet
  expect(await call("PUSB.scan", hostRef("master"))).toBe("");
  await until("the UPS has a PUSB", async () => (await pusbAt("master", "1-4")) !== undefined);
  const [pusb, record] = (await pusbAt("master", "1-4")) ?? ["", {}];
  expect(record).toMatchObject({
    vendor_id: "0764",
    product_id: "0501",
    serial: "CPS-UPS-0042",
    passthrough_enabled: false,
    speed: 1.5,
  });
  expect(await pusbAt("master", "1-5")).toBeUndefined();
  const group = String(record["USB_group"]);
  expect(await call("USB_group.get_name_label", group)).toBe("Group of 0764 0501 USBs");

  sim().control.usb.unplug(hostUuid("master"), "1-5");
  const report = sim().control.usb.unplug(hostUuid("master"), "1-4", { scan: true });
  expect(report.scans).toEqual([{ added: [], removed: [pusb], kept: [] }]);
  expect(await failure("PUSB.get_record", pusb)).toEqual(["HANDLE_INVALID", "PUSB", pusb]);
  expect(await failure("USB_group.get_record", group)).toEqual(["HANDLE_INVALID", "USB_group", group]);
});

test("a VUSB attaches at start; VUSB.unplug detaches it, with XAPI's errors for a detached VUSB and a halted VM", async () => {
  const vm = await vmRef("home-assistant");
  const [pusb = ""] = (await pusbAt("master", DEFAULT_USB_DEVICE.path)) ?? [];
  const group = await call<string>("PUSB.get_USB_group", pusb);
  await call("PUSB.set_passthrough_enabled", pusb, true);
  const vusb = await call<string>("VUSB.create", vm, group, {});

  expect(await failure("VUSB.unplug", vusb)).toEqual(["VM_BAD_POWER_STATE", vm, "running", "halted"]);
  await call("VM.start", vm, false, false);
  expect(await call("VM.get_resident_on", vm)).toBe(hostRef("master"));
  expect(await call("VUSB.get_currently_attached", vusb)).toBe(true);
  // A VM holding a VUSB cannot migrate (xapi_vm_lifecycle.ml), attached or not.
  expect(await call<string[]>("VM.get_allowed_operations", vm)).not.toContain("pool_migrate");
  expect(await failure("VM.pool_migrate", vm, hostRef("member-1"), {})).toEqual(["VM_HAS_VUSBS", vm]);

  expect(await call("VUSB.unplug", vusb)).toBe("");
  expect(await call<Rec>("VUSB.get_record", vusb)).toMatchObject({
    currently_attached: false,
    allowed_operations: ["attach", "plug"],
  });
  expect(await failure("VUSB.unplug", vusb)).toEqual(["DEVICE_ALREADY_DETACHED", vusb]);
  // No VUSB.plug in the API: the device comes back at the next start.
  expect(await failure("VUSB.plug", vusb)).toEqual(["MESSAGE_METHOD_UNKNOWN", "VUSB.plug"]);
  await call("VM.hard_shutdown", vm);
  await call("VM.start", vm, false, false);
  expect(await call("VUSB.get_currently_attached", vusb)).toBe(true);
  await call("VM.hard_shutdown", vm);
});

test("pulling the stick out while the VM runs: the next scan unplugs and destroys its VUSB; the VM starts without it", async () => {
  const vm = await vmRef("home-assistant");
  const [vusb = ""] = await call<string[]>("VM.get_VUSBs", vm);
  await call("VM.start", vm, false, false);
  expect(await call("VUSB.get_currently_attached", vusb)).toBe(true);

  sim().control.usb.unplug(hostUuid("master"), DEFAULT_USB_DEVICE.path);
  expect(await call("VUSB.get_currently_attached", vusb)).toBe(true); // not noticed yet
  await call("PUSB.scan", hostRef("master"));
  await until("the VUSB is gone", async () => (await call<string[]>("VM.get_VUSBs", vm)).length === 0);
  expect(await pusbAt("master", DEFAULT_USB_DEVICE.path)).toBeUndefined();
  expect(await call("VM.get_power_state", vm)).toBe("Running");
  await call("VM.hard_shutdown", vm);
  await call("VM.start", vm, false, false);
  expect(await call("VM.get_power_state", vm)).toBe("Running");
  await call("VM.hard_shutdown", vm);
});

test("moving the stick to another port makes a new PUSB (passthrough off, new group) and drops the old one with its VUSB", async () => {
  sim().control.usb.plug(hostUuid("master"), DEFAULT_USB_DEVICE, { scan: true });
  const [oldPusb = ""] = (await pusbAt("master", "1-2")) ?? [];
  const oldGroup = await call<string>("PUSB.get_USB_group", oldPusb);
  await call("PUSB.set_passthrough_enabled", oldPusb, true);
  const vm = await vmRef("nut");
  const vusb = await call<string>("VUSB.create", vm, oldGroup, {});

  const report = sim().control.usb.move(hostUuid("master"), "1-2", { path: "1-1.4" }, { scan: true });
  expect(report.device.path).toBe("1-1.4");
  const [newPusb = "", record = {}] = (await pusbAt("master", "1-1.4")) ?? [];
  expect(report.scans).toEqual([{ added: [newPusb], removed: [oldPusb], kept: [] }]);
  expect(record).toMatchObject({ serial: DEFAULT_USB_DEVICE.serial, passthrough_enabled: false });
  expect(record["USB_group"]).not.toBe(oldGroup);
  expect(await failure("VUSB.get_record", vusb)).toEqual(["HANDLE_INVALID", "VUSB", vusb]);
});

test("a stick on another host: VM.start places the VM there, VM.start_on elsewhere is refused with the VUSB and host", async () => {
  sim().control.usb.move(hostUuid("master"), "1-1.4", { hostUuid: hostUuid("member-1"), path: "2-1" });
  await call("PUSB.scan", hostRef("master"));
  await call("PUSB.scan", hostRef("member-1"));
  await until("the stick's PUSB is on member-1", async () => (await pusbAt("member-1", "2-1")) !== undefined);
  await until("the master's PUSB is gone", async () => (await pusbAt("master", "1-1.4")) === undefined);
  const [pusb = ""] = (await pusbAt("member-1", "2-1")) ?? [];
  const vm = await vmRef("nut");
  await call("PUSB.set_passthrough_enabled", pusb, true);
  const vusb = await call<string>("VUSB.create", vm, await call("PUSB.get_USB_group", pusb), {});

  expect(await failure("VM.start_on", vm, hostRef("master"), false, false)).toEqual([
    "OPERATION_NOT_ALLOWED",
    `VUSB ${vusb} is not available on Host ${hostRef("master")}`,
  ]);
  await call("VM.start", vm, false, false);
  expect(await call("VM.get_resident_on", vm)).toBe(hostRef("member-1"));
  expect(await call("VUSB.get_currently_attached", vusb)).toBe(true);
});

test("a host reboot halts the VM (its VUSB detaches) and XAPI's start-up scan drops a stick pulled while the host was down", async () => {
  const vm = await vmRef("nut");
  const [vusb = ""] = await call<string[]>("VM.get_VUSBs", vm);
  sim().control.usb.unplug(hostUuid("member-1"), "2-1");
  expect(await call("VUSB.get_currently_attached", vusb)).toBe(true);
  await sim().control.hosts.reboot(hostUuid("member-1"));
  session = await login(sim());
  expect(await call("VM.get_power_state", vm)).toBe("Halted");
  expect(await call<string[]>("VM.get_VUSBs", vm)).toEqual([]);
  expect(await pusbAt("member-1", "2-1")).toBeUndefined();
});

test("only HVM guests start with a VUSB: a PV guest fails on its device model", async () => {
  sim().control.usb.plug(hostUuid("master"), DEFAULT_USB_DEVICE, { scan: true });
  const [pusb = ""] = (await pusbAt("master", "1-2")) ?? [];
  const vm = await vmRef("pv-guest");
  await call("VUSB.create", vm, await call("PUSB.get_USB_group", pusb), {});
  expect(await failure("VM.start", vm, false, false)).toEqual([
    "INVALID_VALUE",
    "platform:device-model when vm has VUSBs",
    "undefined",
  ]);
  expect(await call("VM.get_power_state", vm)).toBe("Halted");
});

test("the control endpoint plugs, moves and pulls sticks, and refuses a taken port or a bad path", async () => {
  const master = hostUuid("master");
  const plugged = await controlRequest(sim(), "POST", `/usb/${master}/plug`, {
    device: { ...ups, path: "3-1" },
    scan: true,
  });
  expect(plugged.status).toBe(200);
  expect((plugged.body as { scans: Array<{ added: string[] }> }).scans[0]?.added).toHaveLength(1);
  const taken = await controlRequest(sim(), "POST", `/usb/${master}/move`, { path: "3-1", toPath: "1-2" });
  expect(taken).toMatchObject({
    status: 400,
    body: { error: `port 1-2 of host ${master} already has a device` },
  });
  const bad = await controlRequest(sim(), "POST", `/usb/${master}/move`, { path: "3-1", toPath: "usb3" });
  expect(bad.status).toBe(400);
  expect(
    (await controlRequest(sim(), "POST", `/usb/${master}/move`, { path: "3-1", toPath: "3-2" })).status,
  ).toBe(200);
  const listed = await controlRequest(sim(), "GET", `/usb/${master}`);
  expect((listed.body as UsbDevice[]).map((device) => device.path).sort()).toEqual(["1-2", "3-2"]);
  expect((await controlRequest(sim(), "POST", `/usb/${master}/unplug`, { path: "3-2" })).status).toBe(200);
  expect((await controlRequest(sim(), "POST", `/usb/${master}/unplug`, { path: "3-2" })).status).toBe(400);
});

test("USB_group.create makes a bare group; USB_group.destroy refuses a group that holds a PUSB", async () => {
  const group = await call<string>("USB_group.create", "spare", "", { note: "x" });
  expect(await call<Rec>("USB_group.get_record", group)).toMatchObject({
    name_label: "spare",
    PUSBs: [],
    VUSBs: [],
    other_config: { note: "x" },
  });
  expect(await call("USB_group.destroy", group)).toBe("");
  const [pusb = ""] = (await pusbAt("master", "1-2")) ?? [];
  const inUse = await call<string>("PUSB.get_USB_group", pusb);
  expect(await failure("USB_group.destroy", inUse)).toEqual(["USB_GROUP_CONTAINS_PUSB", pusb]);
});

test("VM.start attaches a VUSB whatever passthrough_enabled says, and finds no host for a VUSB whose group has no PUSB", async () => {
  const pvGuest = await vmRef("pv-guest");
  for (const vusb of await call<string[]>("VM.get_VUSBs", pvGuest)) await call("VUSB.destroy", vusb);
  const [pusb = ""] = (await pusbAt("master", "1-2")) ?? [];
  expect(await call("PUSB.get_passthrough_enabled", pusb)).toBe(false);
  const vm = await vmRef("home-assistant");
  const vusb = await call<string>("VUSB.create", vm, await call("PUSB.get_USB_group", pusb), {});
  await call("VM.start", vm, false, false);
  expect(await call("VUSB.get_currently_attached", vusb)).toBe(true);
  await call("VM.hard_shutdown", vm);
  await call("VUSB.destroy", vusb);

  const bare = await call<string>("USB_group.create", "no stick", "", {});
  await call("VUSB.create", vm, bare, {});
  expect(await failure("VM.start", vm, false, false)).toEqual(["NO_HOSTS_AVAILABLE"]);
  expect(await call("VM.get_power_state", vm)).toBe("Halted");
});

test("a host reboot with the stick still in place keeps its PUSB (passthrough on) and the VUSB, detached until the VM starts again", async () => {
  const [pusb = ""] = (await pusbAt("master", "1-2")) ?? [];
  await call("PUSB.set_passthrough_enabled", pusb, true);
  const vm = await vmRef("nut");
  const vusb = await call<string>("VUSB.create", vm, await call("PUSB.get_USB_group", pusb), {});
  await call("VM.start", vm, false, false);
  expect(await call("VM.get_resident_on", vm)).toBe(hostRef("master"));

  await sim().control.hosts.reboot(hostUuid("master"));
  session = await login(sim());
  expect(await call("VM.get_power_state", vm)).toBe("Halted");
  expect(await call<Rec>("VUSB.get_record", vusb)).toMatchObject({ VM: vm, currently_attached: false });
  expect(await call<Rec>("PUSB.get_record", pusb)).toMatchObject({ path: "1-2", passthrough_enabled: true });
  await call("VM.start", vm, false, false);
  expect(await call("VUSB.get_currently_attached", vusb)).toBe(true);
});
