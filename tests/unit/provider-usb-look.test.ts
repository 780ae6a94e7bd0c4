// look/usb-view.ts: from XAPI's records to one PassthroughUsb's view (which PUSBs match, where,
// whose VUSBs, and the stick in use as a disk at its port path on any host, as XAPI checks it).
import { parseUsbInputs } from "#provider/core/usb-schema.js";
import { usbViewOf } from "#provider/look/usb-view.js";
import type { UsbSnapshot } from "#provider/xapi/usb.js";

const inputs = parseUsbInputs({
  connection: { host: "xcp1.lan" },
  device: { vendorId: "10c4", productId: "ea60", serial: "SER1" },
  vm: { nameLabel: "ha" },
  owner: "p/s/zigbee",
});

const pusb = (ref: string, host: string, fields: Record<string, unknown> = {}) => ({
  $ref: ref,
  uuid: `${ref}-uuid`,
  USB_group: `${ref}-group`,
  host,
  path: "1-2",
  vendor_id: "10C4",
  vendor_desc: "",
  product_id: "EA60",
  product_desc: "",
  serial: "SER1",
  description: "",
  passthrough_enabled: false,
  other_config: {},
  ...fields,
});

const vm = (ref: string, name: string, fields: Record<string, unknown> = {}) => ({
  $ref: ref,
  uuid: `${ref}-uuid`,
  name_label: name,
  power_state: "Running",
  is_control_domain: false,
  is_a_template: false,
  ...fields,
});

const snapshot = {
  hosts: [
    { $ref: "h1", uuid: "host-1", name_label: "xcp1" },
    { $ref: "h2", uuid: "host-2", name_label: "xcp2" },
  ],
  pusbs: [
    pusb("p1", "h1"),
    pusb("p2", "h2", { serial: "OTHER", other_config: { "xen-passthrough-enabled-by": "p/s/zigbee" } }),
    pusb("p3", "h1", { path: "1-3", serial: "SER9" }),
  ],
  groups: [{ $ref: "p1-group", uuid: "g1", name_label: "" }],
  vusbs: [
    {
      $ref: "v1",
      uuid: "vusb-1",
      VM: "vm1",
      USB_group: "p1-group",
      currently_attached: false,
      other_config: {},
    },
    {
      $ref: "v9",
      uuid: "vusb-9",
      VM: "vm1",
      USB_group: "p3-group",
      currently_attached: false,
      other_config: { "xen-passthrough-owner": "p/s/zigbee" },
    },
  ],
  vms: [
    vm("vm1", "ha", { ha_restart_priority: "restart" }),
    vm("t1", "ha", { is_a_template: true }),
    vm("d0", "Control domain", { is_control_domain: true }),
  ],
  srs: [
    {
      $ref: "sr2",
      uuid: "sr-2",
      type: "udev",
      name_label: "",
      content_type: "disk",
      sm_config: {},
      PBDs: [],
      VDIs: [],
    },
  ],
  pbds: [{ $ref: "pbd2", uuid: "pbd-2", host: "h2", SR: "sr2", currently_attached: true }],
  vdis: [
    {
      $ref: "vdi2",
      uuid: "vdi-2",
      SR: "sr2",
      location: "",
      virtual_size: 0,
      VBDs: [],
      sm_config: { usb_path: "1-2" },
    },
  ],
  vbds: [{ $ref: "vbd2", uuid: "vbd-2", VM: "d0", VDI: "vdi2" }],
} as unknown as UsbSnapshot;

const view = usbViewOf(snapshot, "host-1", inputs);

test("the identity matches this host's PUSB (ids in any case), not one with another serial elsewhere", () => {
  expect(view.matches.map((m) => m.uuid)).toEqual(["p1-uuid"]);
  expect(view.matches[0]).toMatchObject({
    vendorId: "10c4",
    productId: "ea60",
    groupUuid: "g1",
    hostName: "xcp1",
  });
  expect(view.elsewhere).toEqual([]);
});

test("on another host of the pool, the same identity is found elsewhere", () => {
  expect(usbViewOf(snapshot, "host-2", inputs).elsewhere.map((m) => m.hostName)).toEqual(["xcp1"]);
});

test("a disk at the stick's port path counts on any host's udev SR (XAPI compares the path alone)", () => {
  expect(view.matches[0]?.diskUse).toEqual({ vdiUuid: "vdi-2", users: ["dom0"] });
  const other = usbViewOf(snapshot, "host-2", {
    ...inputs,
    device: { vendorId: "10c4", productId: "ea60", serial: "OTHER" },
  });
  expect(other.matches[0]?.diskUse).toEqual({ vdiUuid: "vdi-2", users: ["dom0"] });
});

test("VUSBs: the device group's (anyone's) and ours anywhere; PUSBs we enabled; VMs without templates", () => {
  expect(view.vusbs.map((v) => [v.uuid, v.owner, v.vmName])).toEqual([
    ["vusb-1", undefined, "ha"],
    ["vusb-9", "p/s/zigbee", "ha"],
  ]);
  expect(view.enabledByUs.map((p) => p.uuid)).toEqual(["p2-uuid"]);
  expect(view.vms).toEqual([
    expect.objectContaining({ uuid: "vm1-uuid", haRestartPriority: "restart", vusbCount: 2 }),
  ]);
  expect(view.owner).toBe("p/s/zigbee");
});

test("a host XAPI does not know is refused", () => {
  expect(() => usbViewOf(snapshot, "host-9", inputs)).toThrow(/XAPI does not know host host-9/);
});
