// PassthroughUsb end to end: the real dynamic-provider host (as `pulumi up` runs it) drives the
// provider against the dom0 sandbox (real sshd) and the XAPI simulator's PUSB / USB_group / VUSB.
import type { Stored } from "../support/engine";
import { connectionTo, useSandbox } from "../support/sandbox";
import { BY_PATH, FLASH, USB_DEVICES, ZIGBEE } from "../support/usb-devices";
import { useUsbEngine } from "../support/usb-engine";
import { usbXapiView } from "../support/usb-xapi-view";

const sandbox = useSandbox({
  disks: 1,
  model: {
    usbDevices: USB_DEVICES,
    vms: [
      { nameLabel: "homeassistant", powerState: "Running" },
      { nameLabel: "kodi", powerState: "Running" },
      { nameLabel: "archive", powerState: "Halted" },
    ],
  },
});
const engine = useUsbEngine();

function args(vm: string, device: Record<string, unknown> = ZIGBEE, owner = "homelab/dev/zigbee") {
  return { connection: connectionTo(sandbox()), device, vm: { nameLabel: vm }, owner };
}

// XAPI as another client sees it (the simulator over TLS).
const { xapi, records, pusb, vusbs, vmRef } = usbXapiView(() => sandbox().simulator);

const halt = (vm: string) => sandbox().simulator.control.drift.setPowerState(vm, "Halted");
const start = async (vm: string) => xapi("VM.start", await vmRef(vm), false, false);

/** The XAPI calls that change something, since the trace was reset. */
const CHANGING = /set_passthrough_enabled|VUSB\.(create|destroy)|other_config$/;
const changingCalls = () =>
  sandbox()
    .simulator.control.trace.get()
    .calls.map((c) => c.method)
    .filter((m) => CHANGING.test(m) || /\.(add_to|remove_from)_other_config$/.test(m));

function refreshed(stored: Stored | undefined): Stored {
  if (stored === undefined) throw new Error("refresh dropped the resource");
  return stored;
}

describe("create, read, update and delete", () => {
  test("create on a running VM: passthrough on, a tagged VUSB, and the outputs say to restart the VM", async () => {
    const created = await engine().create(args("homeassistant"));
    const s = created.state;
    const stick = await pusb("1-2");
    expect(stick.passthrough_enabled).toBe(true);
    expect(stick.other_config["xen-passthrough-enabled-by"]).toBe("homelab/dev/zigbee");
    const [vusb] = await vusbs();
    expect(vusb).toMatchObject({
      uuid: s["vusbUuid"],
      VM: await vmRef("homeassistant"),
      USB_group: stick.USB_group,
    });
    expect(vusb?.other_config["xen-passthrough-owner"]).toBe("homelab/dev/zigbee");
    expect(s).toMatchObject({
      pusbUuid: stick.uuid,
      path: "1-2",
      passthroughEnabled: true,
      currentlyAttached: false,
      restartRequired: true,
      vmPowerState: "Running",
      drift: [],
    });
    expect(String(s["notice"])).toMatch(/VM "homeassistant" must restart/);

    // A fresh look agrees, and there is nothing to do.
    const again = refreshed(await engine().refresh(created));
    expect(again.state).toEqual(created.state);
    expect((await engine().preview(again, args("homeassistant"))).changes).toBe("none");

    // The restart attaches the device; read reports it attached, no restart needed, no drift.
    halt("homeassistant");
    await start("homeassistant");
    const running = refreshed(await engine().refresh(again));
    expect(running.state).toMatchObject({
      currentlyAttached: true,
      restartRequired: false,
      notice: "",
      drift: [],
    });

    // Delete is refused while the device is attached, with nothing changed.
    sandbox().simulator.control.trace.reset();
    await expect(engine().destroy(running)).rejects.toThrow(
      /attached to running VM "homeassistant".*shut the VM down/,
    );
    expect(changingCalls()).toEqual([]);

    halt("homeassistant");
    await engine().destroy(running);
    expect(await vusbs()).toEqual([]);
    const after = await pusb("1-2");
    expect(after.passthrough_enabled).toBe(false);
    expect(after.other_config).toEqual({});
  });

  test("update to another VM moves the VUSB, and delete leaves nothing", async () => {
    const created = await engine().create(args("kodi"));
    expect(created.state["restartRequired"]).toBe(true);
    const moved = await engine().up(created, args("archive"));
    expect(moved.state).toMatchObject({ vmPowerState: "Halted", restartRequired: false, drift: [] });
    expect(String(moved.state["notice"])).toMatch(/attaches when VM "archive" next starts/);
    const all = await vusbs();
    expect(all.map((v) => v.VM)).toEqual([await vmRef("archive")]);
    expect((await pusb("1-2")).passthrough_enabled).toBe(true);
    await engine().destroy(moved);
    expect(await vusbs()).toEqual([]);
    expect((await pusb("1-2")).passthrough_enabled).toBe(false);
  });

  test("a device without a serial is named by its port path", async () => {
    const created = await engine().create(args("archive", BY_PATH, "homelab/dev/ups"));
    expect(created.state).toMatchObject({ path: "1-4", passthroughEnabled: true, drift: [] });
    await engine().destroy(created);
    expect((await pusb("1-4")).passthrough_enabled).toBe(false);
  });
});

describe("refusals before any change", () => {
  beforeEach(() => sandbox().simulator.control.trace.reset());

  test("a device the host does not have: what to run to list them", async () => {
    await expect(engine().create(args("archive", { ...ZIGBEE, serial: "NOSUCHSERIAL" }))).rejects.toThrow(
      /is not among host .*USB devices.*pulumi-xen-passthrough usb/,
    );
    expect(changingCalls()).toEqual([]);
  });

  test("a VM that does not exist", async () => {
    await expect(engine().create(args("no-such-vm"))).rejects.toThrow(/does not exist in the pool/);
    expect(changingCalls()).toEqual([]);
  });

  test("bad input is refused by check, before any connection", async () => {
    await expect(engine().create(args("archive", { vendorId: "10c4", productId: "ea60" }))).rejects.toThrow(
      /set serial/,
    );
    expect(sandbox().simulator.control.trace.get().calls).toEqual([]);
  });

  test("a device another VM holds through a hand-made VUSB", async () => {
    const stick = await pusb("1-4");
    await xapi("PUSB.set_passthrough_enabled", stick.ref, true);
    const handMade = await xapi<string>("VUSB.create", await vmRef("kodi"), stick.USB_group, {});
    sandbox().simulator.control.trace.reset();
    await expect(engine().create(args("archive", BY_PATH, "homelab/dev/ups"))).rejects.toThrow(
      /held by VM "kodi".*xe vusb-destroy/,
    );
    expect(changingCalls()).toEqual([]);
    await xapi("VUSB.destroy", handMade);
    await xapi("PUSB.set_passthrough_enabled", stick.ref, false);
  });

  test("a device another resource owns", async () => {
    const first = await engine().create(args("archive", ZIGBEE, "homelab/dev/one"));
    sandbox().simulator.control.trace.reset();
    await expect(engine().create(args("archive", ZIGBEE, "homelab/dev/two"))).rejects.toThrow(
      /already managed by PassthroughUsb homelab\/dev\/one/,
    );
    expect(changingCalls()).toEqual([]);
    await engine().destroy(first);
  });
});

describe("drift: read reports it, the next up converges", () => {
  let stored: Stored;
  const wanted = () => args("archive");

  beforeAll(async () => {
    stored = await engine().create(wanted());
  });
  afterAll(async () => {
    halt("archive");
    await engine().destroy(stored);
  });

  async function refreshExpectingDrift(...patterns: RegExp[]): Promise<void> {
    stored = refreshed(await engine().refresh(stored));
    for (const pattern of patterns)
      expect(stored.state["drift"]).toEqual(expect.arrayContaining([expect.stringMatching(pattern)]));
    expect((await engine().preview(stored, wanted())).changes).toBe("some");
  }

  async function upAndExpectInSync(): Promise<void> {
    stored = await engine().up(stored, wanted());
    const again = refreshed(await engine().refresh(stored));
    expect(again.state["drift"]).toEqual([]);
    expect((await engine().preview(again, wanted())).changes).toBe("none");
    stored = again;
  }

  test("passthrough disabled behind Pulumi's back (XAPI destroys the VUSB with it)", async () => {
    await xapi("PUSB.set_passthrough_enabled", (await pusb("1-2")).ref, false);
    await refreshExpectingDrift(/passthrough was disabled/, /the VUSB is gone/);
    // Drift stays reported over a second refresh, until an up.
    await refreshExpectingDrift(/passthrough was disabled/);
    await upAndExpectInSync();
    expect((await pusb("1-2")).passthrough_enabled).toBe(true);
    expect(await vusbs()).toHaveLength(1);
  });

  test("the VUSB destroyed behind Pulumi's back", async () => {
    await xapi("VUSB.destroy", String((await vusbs())[0]?.ref));
    await refreshExpectingDrift(/the VUSB is gone/);
    await upAndExpectInSync();
    expect((await vusbs())[0]?.uuid).toBe(stored.state["vusbUuid"]);
  });

  test("the VM started, then halted behind Pulumi's back", async () => {
    await start("archive");
    stored = refreshed(await engine().refresh(stored));
    expect(stored.state).toMatchObject({ currentlyAttached: true, drift: [] });
    halt("archive");
    await refreshExpectingDrift(/the VM is Halted now/);
    await upAndExpectInSync();
  });
});

describe("the stick moved or pulled out (XAPI scanned): read reports it, up converges or refuses", () => {
  const wanted = () => args("archive");
  const hostUuid = () => sandbox().host.uuid;
  const usb = () => sandbox().simulator.control.usb;

  test("moved to another port: a new PUSB, passthrough off, the VUSB gone; up passes the new one through", async () => {
    let stored = await engine().create(wanted());
    const before = stored.state["pusbUuid"];
    usb().move(hostUuid(), "1-2", { path: "1-3" }, { scan: true });

    stored = refreshed(await engine().refresh(stored));
    expect(stored.state["drift"]).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/moved from port 1-2 to port 1-3/),
        expect.stringMatching(/passthrough was disabled/),
        expect.stringMatching(/the VUSB is gone/),
      ]),
    );
    expect(stored.state).toMatchObject({ path: "1-3", passthroughEnabled: false, vusbUuid: "" });
    expect(stored.state["pusbUuid"]).not.toBe(before);
    expect(await vusbs()).toEqual([]);

    stored = await engine().up(stored, wanted());
    const stick = await pusb("1-3");
    expect(stored.state).toMatchObject({
      path: "1-3",
      pusbUuid: stick.uuid,
      passthroughEnabled: true,
      drift: [],
    });
    expect((await vusbs()).map((v) => v.USB_group)).toEqual([stick.USB_group]);
    const again = refreshed(await engine().refresh(stored));
    expect(again.state["drift"]).toEqual([]);
    expect((await engine().preview(again, wanted())).changes).toBe("none");

    await engine().destroy(again);
    expect(await vusbs()).toEqual([]);
    expect((await pusb("1-3")).passthrough_enabled).toBe(false);
    usb().move(hostUuid(), "1-3", { path: "1-2" }, { scan: true });
  });

  test("pulled out: read says gone, up refuses with nothing changed; plugged back, up scans and converges", async () => {
    let stored = await engine().create(wanted());
    const stick = usb().unplug(hostUuid(), "1-2", { scan: true }).device;

    stored = refreshed(await engine().refresh(stored));
    expect(stored.state["drift"]).toEqual(
      expect.arrayContaining([expect.stringMatching(/the device is gone from host .*unplugged/)]),
    );
    expect(stored.state).toMatchObject({ pusbUuid: "", path: "", passthroughEnabled: false, vusbUuid: "" });
    expect(await vusbs()).toEqual([]);

    sandbox().simulator.control.trace.reset();
    await expect(engine().up(stored, wanted())).rejects.toThrow(/is not among host .*USB devices.*unplugged/);
    const calls = sandbox()
      .simulator.control.trace.get()
      .calls.map((c) => c.method);
    expect(calls).toContain("PUSB.scan");
    expect(changingCalls()).toEqual([]);

    // Plugged back in, XAPI not told: up asks the host to scan and waits for the device.
    usb().plug(hostUuid(), stick);
    stored = await engine().up(stored, wanted());
    expect(stored.state).toMatchObject({ path: "1-2", passthroughEnabled: true, drift: [] });
    expect(await vusbs()).toHaveLength(1);
    await engine().destroy(stored);
    expect(await vusbs()).toEqual([]);
    expect((await pusb("1-2")).passthrough_enabled).toBe(false);
  });

  test("pulled out: delete leaves nothing and does not fail", async () => {
    const stored = await engine().create(wanted());
    const stick = usb().unplug(hostUuid(), "1-2", { scan: true }).device;
    await engine().destroy(stored);
    expect(await vusbs()).toEqual([]);
    expect((await records("PUSB")).filter(([, r]) => r.passthrough_enabled)).toEqual([]);
    usb().plug(hostUuid(), stick, { scan: true });
  });
});

describe("a USB stick that is also a disk (sm's udev scan records its port as usb_path)", () => {
  const FLASH_ID = { vendorId: "0781", productId: "5567", serial: FLASH.serial };
  const HAND_RULE = "/etc/udev/rules.d/99-stick-as-disk.rules";
  const hostUuid = () => sandbox().host.uuid;
  const usb = () => sandbox().simulator.control.usb;
  async function sh(command: string): Promise<string> {
    const result = await sandbox().exec(command);
    if (result.exitCode !== 0) throw new Error(`${command} failed (${result.exitCode}): ${result.stderr}`);
    return result.stdout.trim();
  }

  test("in use as a disk by a VM: PassthroughUsb is refused before any change, with what to do", async () => {
    const disk = sandbox().disks.find((d) => !d.inUse);
    if (disk === undefined) throw new Error("no free disk");
    // The stick's USB device at port 1-5, and its block device on that same port.
    usb().plug(hostUuid(), FLASH, { scan: true });
    usb().setDiskPort(hostUuid(), disk.kernelName, "1-5");
    // Handed to a VM as a disk by hand: udev rule, sr-scan, xe vbd-create.
    await sh(
      `echo 'KERNEL=="${disk.kernelName}", SUBSYSTEM=="block", SYMLINK+="xapi/block/%k"' > ${HAND_RULE}`,
    );
    await sh(
      `udevadm control --reload && udevadm trigger --action=change --sysname-match=${disk.kernelName} && udevadm settle`,
    );
    const sr = await sh("xe sr-list type=udev sm-config:type=block params=uuid --minimal");
    await sh(`xe sr-scan uuid=${sr}`);
    const vdi = await sh(`xe vdi-list location=/dev/xapi/block/${disk.kernelName} params=uuid --minimal`);
    expect(await sh(`xe vdi-param-get uuid=${vdi} param-name=sm-config param-key=usb_path`)).toBe("1-5");
    const archive = await sh("xe vm-list name-label=archive params=uuid --minimal");
    const vbd = await sh(`xe vbd-create vm-uuid=${archive} vdi-uuid=${vdi} device=autodetect`);

    sandbox().simulator.control.trace.reset();
    await expect(engine().create(args("homeassistant", FLASH_ID, "homelab/dev/flash"))).rejects.toThrow(
      new RegExp(
        `in use as a disk \\(VDI ${vdi} .*used by VM "archive"\\).*PUSB_VDI_CONFLICT.*Remove that disk's VBD`,
      ),
    );
    expect(changingCalls()).toEqual([]);
    expect((await pusb("1-5")).passthrough_enabled).toBe(false);
    expect(await vusbs()).toEqual([]);

    // Freed, the same stick goes through: XAPI forgets its disk VDI, and sm's scan then refuses it.
    await sh(`xe vbd-destroy uuid=${vbd}`);
    const created = await engine().create(args("homeassistant", FLASH_ID, "homelab/dev/flash"));
    expect(created.state).toMatchObject({ path: "1-5", passthroughEnabled: true, drift: [] });
    expect(await sh(`xe vdi-list location=/dev/xapi/block/${disk.kernelName} params=uuid --minimal`)).toBe(
      "",
    );
    expect((await sandbox().exec(`xe sr-scan uuid=${sr}`)).stderr).toMatch(/SR_BACKEND_FAILURE_46/);

    await engine().destroy(created);
    await sh(
      `rm ${HAND_RULE} && udevadm control --reload && udevadm trigger --action=change --sysname-match=${disk.kernelName} && udevadm settle`,
    );
    await sh(`xe sr-scan uuid=${sr}`);
    usb().setDiskPort(hostUuid(), disk.kernelName, "");
    usb().unplug(hostUuid(), "1-5", { scan: true });
  });
});
