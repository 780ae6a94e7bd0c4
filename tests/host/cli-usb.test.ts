// `xen-passthrough usb` against the dom0 sandbox, run as users run it: the built CLI in a child
// process, over real SSH and XAPI through it. What it prints to paste is what PassthroughUsb takes.
import { DEFAULT_USB_DEVICE } from "xen-sandbox";
import { runCli, sshFlags, type CliRun } from "../support/cli-run";
import { connectionTo, useSandbox } from "../support/sandbox";
import { useUsbEngine } from "../support/usb-engine";

const NO_SERIAL = { ...DEFAULT_USB_DEVICE, vendorId: "1a86", productId: "7523", serial: "", path: "1-4" };
const sandbox = useSandbox({ disks: 1, model: { usbDevices: [[DEFAULT_USB_DEVICE, NO_SERIAL]] } });
const engine = useUsbEngine();

interface JsonDevice {
  path: string;
  serial: string | null;
  passthroughEnabled: boolean;
  identity: Record<string, string>;
  paste: string;
  vusb: { vm: { nameLabel: string }; attached: boolean; managedBy: string | null } | null;
}

function run(extra: string[]): Promise<CliRun> {
  return runCli([...sshFlags("usb", sandbox().ssh), ...extra]);
}

async function listJson(): Promise<JsonDevice[]> {
  const result = await run(["--json"]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { devices: JsonDevice[] }).devices;
}

test("lists the host's USB devices with the identity to paste, and that identity works", async () => {
  const devices = await listJson();
  expect(devices.map((d) => d.path)).toEqual(["1-2", "1-4"]);
  const [zigbee, bridge] = devices;
  expect(zigbee?.identity).toEqual({
    vendorId: "10c4",
    productId: "ea60",
    serial: DEFAULT_USB_DEVICE.serial,
  });
  expect(bridge?.identity).toEqual({ vendorId: "1a86", productId: "7523", path: "1-4" });

  // The identity as printed is a PassthroughUsb's device; the next listing shows who has it.
  const created = await engine().create({
    connection: connectionTo(sandbox()),
    device: zigbee?.identity,
    vm: { nameLabel: "media-server" },
    owner: "homelab/dev/zigbee",
  });
  const after = await listJson();
  expect(after[0]).toMatchObject({
    passthroughEnabled: true,
    vusb: { vm: { nameLabel: "media-server" }, attached: false, managedBy: "homelab/dev/zigbee" },
  });
  const table = await run([]);
  expect(table.code).toBe(0);
  expect(table.stdout).toContain(`paste:        ${zigbee?.paste ?? "?"}`);
  expect(table.stdout).toContain('given to:     VM "media-server" (Running, not attached)');
  await engine().destroy(created);
});
