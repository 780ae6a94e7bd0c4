// USB passthrough in the XAPI simulator: PUSB / USB_group / VUSB records, dom0's USB policy,
// PUSB.set_passthrough_enabled, VUSB.create / destroy and their error codes (docs/usb-passthrough.md).
import { DEFAULT_USB_DEVICE, usbPolicyAllows } from "xen-sandbox";
import type { UsbDevice } from "xen-sandbox";
import { jsonFailure, jsonResult, login, useXapiSimulator } from "./xapi-fixture";

type Rec = Record<string, unknown>;

const device = (overrides: Partial<UsbDevice>): UsbDevice => ({ ...DEFAULT_USB_DEVICE, ...overrides });
const hub = device({ vendorId: "05e3", productId: "0608", deviceClass: "09", path: "1-1", serial: "" });
// A keyboard and a ConBee II as their descriptors read: the policy judges their interfaces.
const keyboard = device({
  vendorId: "046d",
  productId: "c31c",
  deviceClass: "00",
  interfaces: [{ class: "03", subclass: "01", protocol: "01" }],
});
const conbee = device({
  vendorId: "1cf1",
  productId: "0030",
  deviceClass: "02",
  path: "1-3",
  serial: "DE2123456",
  interfaces: [
    { class: "02", subclass: "02", protocol: "01" },
    { class: "0a", subclass: "00", protocol: "00" },
  ],
});
const sticks = Array.from({ length: 7 }, (_, n) => device({ path: `2-${n + 1}`, serial: `S${n}` }));

const standard = useXapiSimulator();
const crowded = useXapiSimulator({ model: { usbDevices: [[hub, keyboard, conbee, ...sticks]] } });

function client(sim: typeof standard) {
  let session = "";
  return {
    login: async () => {
      session = await login(sim());
    },
    call: <T = unknown>(method: string, ...args: unknown[]) =>
      jsonResult<T>({ sim: sim() }, method, [session, ...args]),
    failure: (method: string, ...args: unknown[]) => jsonFailure({ sim: sim() }, method, [session, ...args]),
  };
}
const std = client(standard);
const many = client(crowded);

beforeAll(async () => {
  await std.login();
  await many.login();
});

test("dom0's policy hides hubs, HID boot keyboards and CDC devices, and lets a CP210x bridge through", () => {
  expect(usbPolicyAllows(DEFAULT_USB_DEVICE)).toBe(true);
  expect(usbPolicyAllows(hub)).toBe(false);
  expect(usbPolicyAllows(keyboard)).toBe(false);
  expect(usbPolicyAllows(conbee)).toBe(false);
  // Shorthand: without interfaces, the device counts as one interface of its own class.
  const shorthand = (subclass: string, protocol: string): UsbDevice => ({
    vendorId: "1234",
    productId: "5678",
    serial: "",
    version: "2.00",
    vendorDesc: "",
    productDesc: "",
    path: "1-9",
    deviceClass: "03",
    subclass,
    protocol,
    speed: 12,
  });
  expect(usbPolicyAllows(shorthand("01", "01"))).toBe(false);
  expect(usbPolicyAllows(shorthand("00", "00"))).toBe(true);
});

test("the policy judges each interface: one denied interface hides the device; class rules ignore the device's own class", () => {
  const vendorSpecific = { class: "ff", subclass: "00", protocol: "00" };
  const bootKeyboard = { class: "03", subclass: "01", protocol: "01" };
  expect(usbPolicyAllows(device({ interfaces: [vendorSpecific] }))).toBe(true);
  expect(usbPolicyAllows(device({ interfaces: [vendorSpecific, bootKeyboard] }))).toBe(false);
  // A ConBee II: CDC-ACM control and data interfaces.
  const cdc = [
    { class: "02", subclass: "02", protocol: "01" },
    { class: "0a", subclass: "00", protocol: "00" },
  ];
  expect(usbPolicyAllows(device({ deviceClass: "02", interfaces: cdc }))).toBe(false);
  expect(usbPolicyAllows(device({ deviceClass: "02", interfaces: [vendorSpecific] }))).toBe(true);
  // The Wacom rule comes before the boot-mouse DENY.
  const wacomMouse = { class: "03", subclass: "01", protocol: "02" };
  expect(usbPolicyAllows(device({ vendorId: "056a", productId: "0315", interfaces: [wacomMouse] }))).toBe(
    true,
  );
  expect(usbPolicyAllows(device({ vendorId: "056a", productId: "0316", interfaces: [wacomMouse] }))).toBe(
    false,
  );
  // A device with no interface, or with a hub interface, is not listed.
  expect(usbPolicyAllows(device({ interfaces: [] }))).toBe(false);
  expect(usbPolicyAllows(device({ interfaces: [{ class: "09", subclass: "00", protocol: "00" }] }))).toBe(
    false,
  );
});

test("the master has one PUSB for the default Zigbee coordinator, with its own group and every datamodel field", async () => {
  const pusbs = await std.call<Record<string, Rec>>("PUSB.get_all_records");
  const [[pusb, record] = ["", {}]] = Object.entries(pusbs);
  expect(Object.keys(pusbs)).toHaveLength(1);
  expect(Object.keys(record).sort()).toEqual(
    [
      "uuid",
      "USB_group",
      "host",
      "path",
      "vendor_id",
      "vendor_desc",
      "product_id",
      "product_desc",
      "serial",
      "version",
      "description",
      "passthrough_enabled",
      "other_config",
      "speed",
    ].sort(),
  );
  expect(record).toMatchObject({
    vendor_id: "10c4",
    product_id: "ea60",
    serial: DEFAULT_USB_DEVICE.serial,
    path: "1-2",
    passthrough_enabled: false,
    description: `Silicon Labs_CP210x UART Bridge_${DEFAULT_USB_DEVICE.serial}`,
    speed: 12,
  });
  const [host] = await std.call<string[]>("host.get_all");
  expect(record["host"]).toBe(host);
  expect(await std.call("host.get_PUSBs", host)).toEqual([pusb]);
  const group = await std.call<Rec>("USB_group.get_record", record["USB_group"]);
  expect(group).toMatchObject({
    name_label: "Group of 10c4 ea60 USBs",
    name_description: "",
    PUSBs: [pusb],
    VUSBs: [],
  });
  expect(Object.keys(group).sort()).toEqual(
    ["uuid", "name_label", "name_description", "PUSBs", "VUSBs", "other_config"].sort(),
  );
});

test("enable, create, boot attaches; destroy and disable are refused while attached; halt then disable destroys the VUSB", async () => {
  const [pusb = ""] = await std.call<string[]>("PUSB.get_all");
  const group = await std.call<string>("PUSB.get_USB_group", pusb);
  const [vm = ""] = await std.call<string[]>("VM.get_by_name_label", "archive");
  const [other = ""] = await std.call<string[]>("VM.get_by_name_label", "media-server");
  await std.call("PUSB.set_passthrough_enabled", pusb, true);
  expect(await std.call("PUSB.get_passthrough_enabled", pusb)).toBe(true);

  const vusb = await std.call<string>("VUSB.create", vm, group, { owner: "test" });
  expect(await std.call<Rec>("VUSB.get_record", vusb)).toMatchObject({
    VM: vm,
    USB_group: group,
    other_config: { owner: "test" },
    currently_attached: false,
    allowed_operations: ["attach"],
  });
  expect(await std.call("VM.get_VUSBs", vm)).toEqual([vusb]);
  expect(await std.call("USB_group.get_VUSBs", group)).toEqual([vusb]);
  expect(await std.failure("VUSB.create", other, group, {})).toEqual(["USB_GROUP_CONFLICT", group]);

  await std.call("VM.start", vm, false, false);
  expect(await std.call("VUSB.get_currently_attached", vusb)).toBe(true);
  expect(await std.call("VUSB.get_allowed_operations", vusb)).toEqual(["attach", "unplug"]);
  const vusbUuid = await std.call<string>("VUSB.get_uuid", vusb);
  const vmUuid = await std.call<string>("VM.get_uuid", vm);
  expect(await std.failure("VUSB.destroy", vusb)).toEqual([
    "OPERATION_NOT_ALLOWED",
    `VUSB '${vusbUuid}' still attached to '${vmUuid}'`,
  ]);
  expect(await std.failure("PUSB.set_passthrough_enabled", pusb, false)).toEqual([
    "USB_ALREADY_ATTACHED",
    pusb,
    vm,
  ]);

  await std.call("VM.hard_shutdown", vm);
  expect(await std.call("VUSB.get_currently_attached", vusb)).toBe(false);
  await std.call("PUSB.set_passthrough_enabled", pusb, false);
  expect(await std.call("PUSB.get_passthrough_enabled", pusb)).toBe(false);
  expect(await std.call("VM.get_VUSBs", vm)).toEqual([]);
  expect(await std.failure("VUSB.get_record", vusb)).toEqual(["HANDLE_INVALID", "VUSB", vusb]);
});

test("a host's USB devices come from the options, filtered by the policy; a VM takes at most 6 VUSBs", async () => {
  const pusbs = await many.call<Record<string, Rec>>("PUSB.get_all_records");
  expect(
    Object.values(pusbs)
      .map((record) => record["path"])
      .sort(),
  ).toEqual(sticks.map((s) => s.path).sort());
  const [vm = ""] = await many.call<string[]>("VM.get_by_name_label", "archive");
  const groups = Object.values(pusbs).map((record) => String(record["USB_group"]));
  for (const group of groups.slice(0, 6)) await many.call("VUSB.create", vm, group, {});
  expect(await many.failure("VUSB.create", vm, groups[6], {})).toEqual(["TOO_MANY_VUSBS", "6"]);
  const vusb = (await many.call<string[]>("VM.get_VUSBs", vm))[0];
  await many.call("VUSB.destroy", vusb);
  expect(await many.call<string[]>("VM.get_VUSBs", vm)).toHaveLength(5);
});
