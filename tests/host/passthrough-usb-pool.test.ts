// PassthroughUsb in a two-host pool through the real dynamic-provider host: the stick is plugged
// into the member; reached over the member's SSH it is passed through (XAPI through the member's
// local socket), reached over the master's it is refused as being on another host, unchanged.
import { DEFAULT_USB_DEVICE, startPool } from "xen-sandbox";
import type { PoolHostSandbox, SandboxPool } from "xen-sandbox";
import { connectionTo } from "../support/sandbox";
import { useUsbEngine } from "../support/usb-engine";

let pool: SandboxPool | undefined;
beforeAll(async () => {
  pool = await startPool({
    hosts: 2,
    disks: [1, 1],
    model: {
      usbDevices: [[], [DEFAULT_USB_DEVICE]],
      vms: [{ nameLabel: "homeassistant", powerState: "Halted" }],
    },
  });
});
afterAll(async () => {
  await pool?.stop();
});
const engine = useUsbEngine();

function host(index: number): PoolHostSandbox {
  const found = pool?.hosts[index];
  if (found === undefined) throw new Error("the pool did not start: see beforeAll");
  return found;
}

/** The XAPI calls that change something, since the trace was reset. */
const changingCalls = (on: PoolHostSandbox) =>
  on.simulator.control.trace
    .get()
    .calls.map((c) => c.method)
    .filter((m) => /set_passthrough_enabled|VUSB\.(create|destroy)|_other_config$/.test(m));

const args = (on: PoolHostSandbox) => ({
  connection: connectionTo(on),
  device: { vendorId: "10c4", productId: "ea60", serial: DEFAULT_USB_DEVICE.serial },
  vm: { nameLabel: "homeassistant" },
  owner: "homelab/dev/zigbee",
});

test("over the master's SSH, the member's stick is refused as on another host, with nothing changed", async () => {
  const control = host(0).simulator.control;
  control.trace.reset();
  await expect(engine().create(args(host(0)))).rejects.toThrow(
    new RegExp(`is not plugged into host ${host(0).host.nameLabel} but into host ${host(1).host.nameLabel}`),
  );
  expect(changingCalls(host(0))).toEqual([]);
});

test("over the member's SSH, the stick is passed through, and delete leaves nothing", async () => {
  const created = await engine().create(args(host(1)));
  expect(created.state).toMatchObject({
    hostUuid: host(1).host.uuid,
    passthroughEnabled: true,
    restartRequired: false,
    drift: [],
  });
  expect(String(created.state["vusbUuid"])).not.toBe("");
  const again = await engine().refresh(created);
  expect(again?.state["drift"]).toEqual([]);
  await engine().destroy(created);
  const after = await engine().refresh(created);
  expect(after?.state).toMatchObject({ vusbUuid: "", passthroughEnabled: false });
});

test("moved to the other host: read reports it, up over the old host refuses, up over the new one replaces", async () => {
  const control = host(0).simulator.control;
  let stored = await engine().create(args(host(1)));
  control.usb.move(host(1).host.uuid, "1-2", { hostUuid: host(0).host.uuid, path: "1-3" }, { scan: true });

  const refreshed = await engine().refresh(stored);
  if (refreshed === undefined) throw new Error("refresh dropped the resource");
  stored = refreshed;
  expect(stored.state["drift"]).toEqual(
    expect.arrayContaining([
      expect.stringMatching(new RegExp(`moved to host ${host(0).host.nameLabel} \\(port 1-3\\)`)),
    ]),
  );
  expect(stored.state).toMatchObject({ pusbUuid: "", vusbUuid: "" });

  control.trace.reset();
  await expect(engine().up(stored, args(host(1)))).rejects.toThrow(
    new RegExp(`not plugged into host ${host(1).host.nameLabel} but into host ${host(0).host.nameLabel}`),
  );
  expect(changingCalls(host(0))).toEqual([]);

  const moved = await engine().upWithPlan(stored, args(host(0)));
  expect(moved.operation).toBe("replace");
  expect(moved.stored.state).toMatchObject({
    hostUuid: host(0).host.uuid,
    path: "1-3",
    passthroughEnabled: true,
    drift: [],
  });
  await engine().destroy(moved.stored);
  const after = await engine().refresh(moved.stored);
  expect(after?.state).toMatchObject({ vusbUuid: "", passthroughEnabled: false });
});
