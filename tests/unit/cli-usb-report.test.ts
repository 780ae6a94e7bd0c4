// `xen-passthrough usb`'s report, pure: a host's devices from XAPI's records, who has each, and
// the identity to paste (serial, else the port).
import { buildUsbReport, formatUsbTable } from "#provider/cli/usb-report.js";
import type { UsbSnapshot } from "#provider/xapi/usb.js";

const pusb = (ref: string, fields: Record<string, unknown>) => ({
  $ref: ref,
  uuid: `${ref}-uuid`,
  USB_group: `${ref}-group`,
  host: "h1",
  path: "1-2",
  vendor_id: "10C4",
  vendor_desc: "Silicon Labs",
  product_id: "ea60",
  product_desc: "CP210x UART Bridge",
  serial: "SER1",
  description: "",
  passthrough_enabled: false,
  other_config: {},
  ...fields,
});

const snapshot = {
  hosts: [
    { $ref: "h1", uuid: "host-1", name_label: "xcp1" },
    { $ref: "h2", uuid: "host-2", name_label: "xcp2" },
  ],
  pusbs: [
    pusb("p1", { path: "1-10" }),
    pusb("p2", {
      path: "1-3",
      vendor_id: "1a86",
      product_id: "7523",
      serial: "",
      passthrough_enabled: true,
      other_config: { "xen-passthrough-enabled-by": "homelab/dev/ups" },
    }),
    pusb("p3", { host: "h2", path: "2-1", serial: "ELSEWHERE" }),
  ],
  groups: [],
  vusbs: [
    {
      $ref: "v1",
      uuid: "vusb-1",
      VM: "vm1",
      USB_group: "p2-group",
      currently_attached: true,
      other_config: { "xen-passthrough-owner": "homelab/dev/ups" },
    },
  ],
  vms: [
    {
      $ref: "vm1",
      uuid: "vm-1",
      name_label: "nut",
      power_state: "Running",
      is_control_domain: false,
      is_a_template: false,
    },
  ],
  srs: [],
  pbds: [],
  vdis: [],
  vbds: [],
} as unknown as UsbSnapshot;

const report = buildUsbReport("root@xcp1", snapshot, "host-1");

test("only this host's devices, by port in numeric order", () => {
  expect(report.host).toEqual({ uuid: "host-1", nameLabel: "xcp1" });
  expect(report.devices.map((d) => d.path)).toEqual(["1-3", "1-10"]);
});

test("a device with a serial is named by it; one without, by its port, with a warning", () => {
  const [ch340, cp210x] = report.devices;
  expect(cp210x?.identity).toEqual({ vendorId: "10c4", productId: "ea60", serial: "SER1" });
  expect(cp210x?.paste).toBe('device: { vendorId: "10c4", productId: "ea60", serial: "SER1" }');
  expect(cp210x?.identityWarning).toBeNull();
  expect(ch340?.identity).toEqual({ vendorId: "1a86", productId: "7523", path: "1-3" });
  expect(ch340?.identityWarning).toMatch(/no serial/);
});

test("who has a device: its VM, attached or not, and the resource that manages it", () => {
  expect(report.devices[0]).toMatchObject({
    passthroughEnabled: true,
    enabledBy: "homelab/dev/ups",
    vusb: { vm: { nameLabel: "nut", powerState: "Running" }, attached: true, managedBy: "homelab/dev/ups" },
  });
  expect(report.devices[1]?.vusb).toBeNull();
  const table = formatUsbTable(report);
  expect(table).toContain(
    'given to:     VM "nut" (Running, attached), managed by PassthroughUsb homelab/dev/ups',
  );
  expect(table).toContain('paste:        device: { vendorId: "10c4", productId: "ea60", serial: "SER1" }');
});

test("two devices of one model sharing a serial are named by port", () => {
  const twins = {
    ...snapshot,
    pusbs: [pusb("a", { path: "1-2" }), pusb("b", { path: "1-4" })],
  } as unknown as UsbSnapshot;
  const devices = buildUsbReport("t", twins, "host-1").devices;
  expect(devices.map((d) => d.identity["path"])).toEqual(["1-2", "1-4"]);
  expect(devices[0]?.identityWarning).toMatch(/same model has this serial/);
});

test("no devices: what to check", () => {
  const empty = buildUsbReport("t", { ...snapshot, pusbs: [] }, "host-1");
  expect(formatUsbTable(empty)).toMatch(/none listed.*xe pusb-scan/s);
});
