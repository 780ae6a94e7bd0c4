// PassthroughUsb's provider methods as the dynamic-provider host calls them
// (lifecycle/usb/index.ts), end to end without root: a real SSH server (ssh2's) whose commands
// run on the fake dom0 (it answers the INSTALLATION_UUID read), XAPI through that connection to
// the simulator's Unix socket, and the simulator's PUSB / USB_group / VUSB records and USB ports.
import { MIGRATING_FROM } from "#provider/core/owner.js";
import { DEFAULT_USB_DEVICE } from "xen-sandbox";
import * as provider from "#provider/lifecycle/usb/index.js";
import { UsbApplyError } from "#provider/lifecycle/usb/errors.js";
import { BY_PATH, USB_DEVICES, ZIGBEE } from "../support/usb-devices";
import { usbXapiView } from "../support/usb-xapi-view";
import { useInProcessHost } from "./in-process-host-fixture";

const OWNER = "homelab/dev/zigbee";

const { dom0, sim, peer, connection, printed } = useInProcessHost({
  usbDevices: USB_DEVICES,
  vms: [
    { nameLabel: "media-server", powerState: "Running" },
    { nameLabel: "archive", powerState: "Halted" },
  ],
});
beforeEach(() => {
  printed.length = 0;
  sim().control.trace.reset();
});

type Props = Record<string, unknown>;

/** Inputs as the engine passes them after check. */
async function checked(vm: string, device: Props = ZIGBEE, owner = OWNER): Promise<Props> {
  const news = {
    connection: connection(),
    device,
    vm: { nameLabel: vm },
    owner,
  };
  const result = await provider.check({}, news);
  expect(result.failures).toBeUndefined();
  return result.inputs as Props;
}

/** The engine's outputs are `any`: typed here once. */
async function create(inputs: Props): Promise<{ id: string; outs: Props }> {
  return (await provider.create(inputs)) as { id: string; outs: Props };
}
async function update(id: string, olds: Props, news: Props): Promise<Props> {
  return ((await provider.update(id, olds, news)) as { outs: Props }).outs;
}
async function read(id: string, props: Props): Promise<Props> {
  const result = await provider.read(id, props);
  expect(result.id).toBe(id);
  return result.props as Props;
}

// XAPI as another client sees it.
const { xapi, records, pusb, vusbs, vmRef } = usbXapiView(sim);
const usb = () => sim().control.usb;
const hostUuid = () => sim().host.uuid;

/** The XAPI calls that change something, since the trace was reset. */
const changingCalls = () =>
  sim()
    .control.trace.get()
    .calls.map((call) => call.method)
    .filter((method) =>
      /set_passthrough_enabled|VUSB\.(create|destroy)|\.(add_to|remove_from)_other_config$/.test(method),
    );

describe("check and diff", () => {
  test("check names each bad property with what is allowed", async () => {
    const good = await checked("archive");
    const bad = await provider.check({}, { ...good, device: { vendorId: "10c4", productId: "ea6" } });
    const reasons = new Map((bad.failures ?? []).map((failure) => [failure.property, failure.reason]));
    expect(reasons.get("device.productId")).toMatch(/four hex digits/);
    expect(reasons.get("device")).toMatch(/set serial \(or path/);
  });

  test("diff: nothing for the same inputs, a replace for another host, an update for another VM or drift", async () => {
    const olds = await checked("archive");
    expect(await provider.diff("id", olds, olds)).toMatchObject({ changes: false, replaces: [] });
    const otherHost = { ...olds, connection: { ...(olds["connection"] as Props), port: 2 } };
    expect(await provider.diff("id", olds, otherHost)).toMatchObject({
      changes: true,
      replaces: ["connection"],
    });
    expect(await provider.diff("id", olds, await checked("media-server"))).toMatchObject({
      changes: true,
      replaces: [],
    });
    const drifted = { ...olds, drift: ["the VUSB is gone"] };
    expect(await provider.diff("id", drifted, olds)).toMatchObject({ changes: true, replaces: [] });
  });
});

describe("create, read, update and delete", () => {
  test("create on a running VM: passthrough on and marked, a tagged VUSB, outputs that say to restart", async () => {
    const { id, outs } = await create(await checked("media-server"));
    expect(id).toBe(`usb:10c4:ea60 serial ${DEFAULT_USB_DEVICE.serial}`);
    const stick = await pusb("1-2");
    expect(stick.passthrough_enabled).toBe(true);
    expect(stick.other_config["xen-passthrough-enabled-by"]).toBe(OWNER);
    const [vusb, ...others] = await vusbs();
    expect(others).toEqual([]);
    expect(vusb).toMatchObject({ VM: await vmRef("media-server"), USB_group: stick.USB_group });
    expect(vusb?.other_config).toEqual({
      "xen-passthrough-owner": OWNER,
      "xen-passthrough-usb": `USB device 10c4:ea60 serial ${DEFAULT_USB_DEVICE.serial}`,
    });
    expect(outs).toMatchObject({
      owner: OWNER,
      hostUuid: hostUuid(),
      pusbUuid: stick.uuid,
      path: "1-2",
      passthroughEnabled: true,
      vusbUuid: vusb?.uuid,
      vmPowerState: "Running",
      currentlyAttached: false,
      restartRequired: true,
      drift: [],
      converged: { path: "1-2", currentlyAttached: false, vmPowerState: "Running" },
    });
    expect(String(outs["notice"])).toMatch(/VM "media-server" must restart .*xe vm-shutdown/);
    expect(printed).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[xen-passthrough usb=10c4:ea60\] enabling passthrough on PUSB/),
        expect.stringMatching(/^\[xen-passthrough usb=10c4:ea60\] VM "media-server" must restart/),
      ]),
    );

    // Refresh sees what create left: the same state.
    expect(await read(id, outs)).toEqual(outs);

    // Update with nothing to change makes no change on the host.
    sim().control.trace.reset();
    expect(await update(id, outs, await checked("media-server"))).toEqual(outs);
    expect(changingCalls()).toEqual([]);
    expect(printed).toContain("[xen-passthrough usb=10c4:ea60] already in place: nothing to change");

    // Update to a halted VM: the VUSB moves, passthrough stays, no restart is needed.
    const moved = await update(id, outs, await checked("archive"));
    expect(await vusbs()).toEqual([
      expect.objectContaining({ VM: await vmRef("archive"), USB_group: stick.USB_group }),
    ]);
    expect(moved).toMatchObject({
      vmPowerState: "Halted",
      restartRequired: false,
      passthroughEnabled: true,
      drift: [],
    });
    expect(moved["vusbUuid"]).not.toBe(outs["vusbUuid"]);
    expect(String(moved["notice"])).toMatch(/attaches when VM "archive" next starts/);

    // Delete: the VUSB goes, and passthrough is off again with our mark gone.
    await provider.delete(id, moved);
    expect(await vusbs()).toEqual([]);
    const after = await pusb("1-2");
    expect(after.passthrough_enabled).toBe(false);
    expect(after.other_config).toEqual({});
    // Refresh after it: the device is there without passthrough or VUSB (drift for the next up).
    expect((await read(id, moved))["drift"]).toEqual([
      `passthrough was disabled on the device (PUSB ${after.uuid})`,
      "the VUSB is gone",
    ]);
    // A second delete finds nothing of ours and changes nothing.
    sim().control.trace.reset();
    await provider.delete(id, moved);
    expect(changingCalls()).toEqual([]);
    expect(printed).toContain("[xen-passthrough usb=10c4:ea60] nothing of this resource is left on the host");
  });

  test("passthrough already enabled by hand: create does not mark it, delete leaves it enabled", async () => {
    const stick = await pusb("1-4");
    await xapi("PUSB.set_passthrough_enabled", stick.ref, true);
    sim().control.trace.reset();
    const { id, outs } = await create(await checked("archive", BY_PATH, "homelab/dev/ups"));
    expect(outs).toMatchObject({ path: "1-4", passthroughEnabled: true, drift: [] });
    expect((await pusb("1-4")).other_config).toEqual({});
    expect(changingCalls()).toEqual(["VUSB.create"]);

    await provider.delete(id, outs);
    expect(await vusbs()).toEqual([]);
    expect((await pusb("1-4")).passthrough_enabled).toBe(true);
    await xapi("PUSB.set_passthrough_enabled", stick.ref, false);
  });

  test("attached to the running VM: read follows it, delete and a move are refused with nothing changed", async () => {
    const { id, outs } = await create(await checked("archive"));
    await xapi("VM.start", await vmRef("archive"), false, false);
    const running = await read(id, outs);
    expect(running).toMatchObject({
      vmPowerState: "Running",
      currentlyAttached: true,
      restartRequired: false,
      notice: "",
      drift: [],
    });

    sim().control.trace.reset();
    await expect(provider.delete(id, running)).rejects.toThrow(
      /VUSB .* is attached to running VM "archive".*shut the VM down.*Nothing was changed before deleting/,
    );
    await expect(update(id, running, await checked("media-server"))).rejects.toThrow(
      /attached to running VM "archive".*Nothing was changed before moving it/,
    );
    expect(changingCalls()).toEqual([]);

    // Halted behind Pulumi's back: drift, measured against the running baseline.
    sim().control.drift.setPowerState("archive", "Halted");
    const halted = await read(id, running);
    expect(halted["drift"]).toEqual(["the VM is Halted now (it was Running)"]);
    expect(await provider.diff(id, halted, await checked("archive"))).toMatchObject({ changes: true });
    await provider.delete(id, halted);
    expect(await vusbs()).toEqual([]);
    expect((await pusb("1-2")).passthrough_enabled).toBe(false);
  });

  test("a renamed resource takes over its pieces: update re-tags them, delete with migratingFromOwner removes them", async () => {
    const { id, outs } = await create(await checked("archive", ZIGBEE, "homelab/dev/old"));
    const vusbUuid = outs["vusbUuid"];
    sim().control.trace.reset();
    const renamed = await update(id, outs, await checked("archive", ZIGBEE, OWNER));
    expect(renamed).toMatchObject({ owner: OWNER, vusbUuid, drift: [] });
    expect(changingCalls()).not.toContain("VUSB.create");
    const [vusb] = await vusbs();
    expect(vusb?.other_config["xen-passthrough-owner"]).toBe(OWNER);
    expect((await pusb("1-2")).other_config["xen-passthrough-enabled-by"]).toBe(OWNER);

    // Pieces still tagged with the old owner: a delete that migrates from it removes them too.
    const { outs: again } = await create(await checked("media-server", BY_PATH, "homelab/dev/old-ups"));
    await provider.delete(id, renamed);
    await provider.delete("usb:ups", {
      ...again,
      owner: "homelab/dev/ups",
      [MIGRATING_FROM]: "homelab/dev/old-ups",
    });
    expect(await vusbs()).toEqual([]);
    expect((await records("PUSB")).filter(([, r]) => r.passthrough_enabled)).toEqual([]);
  });
});

describe("the stick moved or pulled out (XAPI scanned): read reports it, update converges or refuses", () => {
  test("moved to another port: drift, then update passes the new PUSB through", async () => {
    const inputs = await checked("archive");
    const { id, outs } = await create(inputs);
    usb().move(hostUuid(), "1-2", { path: "1-3" }, { scan: true });

    const moved = await read(id, outs);
    expect(moved["drift"]).toEqual(
      expect.arrayContaining([
        "the device moved from port 1-2 to port 1-3",
        expect.stringMatching(/passthrough was disabled/),
        "the VUSB is gone",
      ]),
    );
    expect(moved).toMatchObject({ path: "1-3", passthroughEnabled: false, vusbUuid: "" });
    expect(moved["pusbUuid"]).not.toBe(outs["pusbUuid"]);
    // Drift stays reported over a second refresh, until an up.
    expect((await read(id, moved))["drift"]).toContain("the device moved from port 1-2 to port 1-3");

    const converged = await update(id, moved, inputs);
    const stick = await pusb("1-3");
    expect(converged).toMatchObject({
      path: "1-3",
      pusbUuid: stick.uuid,
      passthroughEnabled: true,
      drift: [],
    });
    expect((await vusbs()).map((v) => v.USB_group)).toEqual([stick.USB_group]);
    expect((await read(id, converged))["drift"]).toEqual([]);

    await provider.delete(id, converged);
    expect(await vusbs()).toEqual([]);
    expect((await pusb("1-3")).passthrough_enabled).toBe(false);
    usb().move(hostUuid(), "1-3", { path: "1-2" }, { scan: true });
  });

  test("pulled out: read says gone, update scans and refuses; plugged back, update scans and converges", async () => {
    const inputs = await checked("archive");
    const { id, outs } = await create(inputs);
    const stick = usb().unplug(hostUuid(), "1-2", { scan: true }).device;

    const gone = await read(id, outs);
    expect(gone["drift"]).toEqual([
      `the device is gone from host ${sim().host.nameLabel} (unplugged? XAPI destroys its VUSB with it)`,
    ]);
    expect(gone).toMatchObject({ pusbUuid: "", path: "", passthroughEnabled: false, vusbUuid: "" });

    sim().control.trace.reset();
    await expect(update(id, gone, inputs)).rejects.toThrow(/is not among host .*USB devices.*unplugged/);
    const methods = sim()
      .control.trace.get()
      .calls.map((call) => call.method);
    expect(methods).toContain("PUSB.scan");
    expect(changingCalls()).toEqual([]);

    // Plugged back in, XAPI not told: update asks the host to scan and waits for the device.
    usb().plug(hostUuid(), stick);
    const back = await update(id, gone, inputs);
    expect(back).toMatchObject({ path: "1-2", passthroughEnabled: true, drift: [] });
    expect(printed).toEqual(
      expect.arrayContaining([expect.stringMatching(/not listed: asking host .* to scan its USB devices/)]),
    );
    await provider.delete(id, back);
    expect(await vusbs()).toEqual([]);
  });
});

describe("refusals before any change", () => {
  test("bad stored inputs fail before anything is dialled", async () => {
    const before = peer().connections;
    await expect(provider.create({ device: ZIGBEE, vm: { nameLabel: "archive" } })).rejects.toThrow(
      /connection/,
    );
    expect(peer().connections).toBe(before);
  });

  test("a device the host does not have: what to run to list them", async () => {
    await expect(create(await checked("archive", { ...ZIGBEE, serial: "NOSUCHSERIAL" }))).rejects.toThrow(
      /is not among host .*USB devices: list them with `pulumi-xen-passthrough usb/,
    );
    expect(changingCalls()).toEqual([]);
  });

  test("a VM that does not exist", async () => {
    await expect(create(await checked("no-such-vm"))).rejects.toThrow(/does not exist in the pool/);
    expect(changingCalls()).toEqual([]);
  });

  test("a device another VM holds through a hand-made VUSB", async () => {
    const stick = await pusb("1-4");
    await xapi("PUSB.set_passthrough_enabled", stick.ref, true);
    const handMade = await xapi<string>("VUSB.create", await vmRef("media-server"), stick.USB_group, {});
    sim().control.trace.reset();
    await expect(create(await checked("archive", BY_PATH, "homelab/dev/ups"))).rejects.toThrow(
      /held by VM "media-server".*xe vusb-destroy/,
    );
    expect(changingCalls()).toEqual([]);
    await xapi("VUSB.destroy", handMade);
    await xapi("PUSB.set_passthrough_enabled", stick.ref, false);
  });

  test("a device another resource owns", async () => {
    const first = await create(await checked("archive", ZIGBEE, "homelab/dev/one"));
    sim().control.trace.reset();
    await expect(create(await checked("archive", ZIGBEE, "homelab/dev/two"))).rejects.toThrow(
      /already managed by PassthroughUsb homelab\/dev\/one/,
    );
    expect(changingCalls()).toEqual([]);
    await provider.delete(first.id, first.outs);
  });

  test("an SSH host that is not a dom0 (no INSTALLATION_UUID) is refused before any XAPI change", async () => {
    dom0.hostUuid = "";
    try {
      await expect(create(await checked("archive"))).rejects.toThrow(
        /no INSTALLATION_UUID in \/etc\/xensource-inventory/,
      );
    } finally {
      dom0.hostUuid = sim().host.uuid;
    }
    expect(changingCalls()).toEqual([]);
    expect(dom0.ran).toContain("hostUuid");
  });
});

describe("a XAPI call of the apply fails", () => {
  test("the error names the step and what was done before it; the next create continues from there", async () => {
    const inputs = await checked("archive");
    sim().control.faults.add({
      method: "VUSB.create",
      action: { error: { code: "INTERNAL_ERROR", params: [] } },
      count: 1,
    });
    const failure = await create(inputs).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UsbApplyError);
    const stick = await pusb("1-2");
    expect((failure as UsbApplyError).message).toMatch(
      new RegExp(
        `failed to create a VUSB for VM .*INTERNAL_ERROR.*Done before it: mark PUSB ${stick.uuid} as enabled by ${OWNER}; ` +
          `enable passthrough on PUSB ${stick.uuid}\\. .*run \`pulumi up\` again`,
      ),
    );
    expect(failure).toMatchObject({ code: "USB_STEP_FAILED", params: { xapiCode: "INTERNAL_ERROR" } });
    expect(stick).toMatchObject({ passthrough_enabled: true });
    expect(await vusbs()).toEqual([]);

    // The marked PUSB is ours: the retry only makes the VUSB.
    sim().control.trace.reset();
    const { id, outs } = await create(inputs);
    expect(changingCalls()).toEqual(["VUSB.create"]);
    expect(outs).toMatchObject({ passthroughEnabled: true, drift: [] });

    // A failure at the first step says nothing was changed.
    sim().control.faults.add({
      method: "VUSB.destroy",
      action: { error: { code: "INTERNAL_ERROR", params: [] } },
      count: 1,
    });
    await expect(provider.delete(id, outs)).rejects.toThrow(
      /failed to destroy VUSB .*Nothing was changed before it/,
    );
    await provider.delete(id, outs);
    expect(await vusbs()).toEqual([]);
    expect((await pusb("1-2")).passthrough_enabled).toBe(false);
  });
});
