// PassthroughUsb's plans as data: what create/update change and delete undoes, the refusals
// before any change, drift, outputs and diff, from hand-made looks at a pool.
import { checkUsbInputs, parseUsbInputs } from "#provider/core/usb-schema.js";
import { UNKNOWN } from "#provider/core/unknown.js";
import { planUsbDiff } from "#provider/core/usb-diff.js";
import { UsbRefusedError } from "#provider/core/usb-errors.js";
import type { PassthroughUsbInputs } from "#provider/core/usb-inputs.js";
import { convergeChangesHost, planUsbConverge, planUsbRemoval } from "#provider/core/usb-plan.js";
import { carriedBaseline, recordedOf, usbDrift, usbStateOf } from "#provider/core/usb-state.js";
import type { UsbDeviceFacts, UsbView, UsbVmFacts, VusbFacts } from "#provider/core/usb-view.js";

const OWNER = "homelab/dev/zigbee";
const connection = {
  host: "xcp1.lan",
  privateKey: "k",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderKeyForTests00000000000000000",
};
const wanted: PassthroughUsbInputs = parseUsbInputs({
  connection: { host: "xcp1.lan", privateKey: "k" },
  device: { vendorId: "10C4", productId: "ea60", serial: "SER1" },
  vm: { nameLabel: "homeassistant" },
  owner: OWNER,
});

const stick: UsbDeviceFacts = {
  ref: "OpaqueRef:pusb1",
  uuid: "pusb-1",
  hostUuid: "host-1",
  hostName: "xcp1",
  path: "1-2",
  vendorId: "10c4",
  productId: "ea60",
  serial: "SER1",
  description: "Silicon Labs_SER1",
  passthroughEnabled: false,
  groupRef: "OpaqueRef:group1",
  groupUuid: "group-1",
  enabledBy: undefined,
  diskUse: undefined,
};
const ha: UsbVmFacts = {
  ref: "OpaqueRef:vm-ha",
  uuid: "vm-ha",
  nameLabel: "homeassistant",
  powerState: "Running",
  isControlDomain: false,
  haRestartPriority: "",
  vusbCount: 0,
};
const vusb = (overrides: Partial<VusbFacts> = {}): VusbFacts => ({
  ref: "OpaqueRef:vusb1",
  uuid: "vusb-1",
  groupRef: stick.groupRef,
  vmRef: ha.ref,
  vmUuid: ha.uuid,
  vmName: ha.nameLabel,
  vmPowerState: "Running",
  currentlyAttached: false,
  owner: OWNER,
  ...overrides,
});
const look = (overrides: Partial<UsbView> = {}): UsbView => ({
  hostUuid: "host-1",
  hostName: "xcp1",
  owner: OWNER,
  previousOwner: undefined,
  matches: [stick],
  elsewhere: [],
  vms: [ha],
  vusbs: [],
  enabledByUs: [],
  ...overrides,
});

function refusal(run: () => unknown): UsbRefusedError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsbRefusedError) return error;
    throw error;
  }
  throw new Error("expected a refusal, the plan went through");
}

describe("inputs", () => {
  test("ids are lower-cased; serial or path, exactly one", () => {
    expect(wanted.device).toEqual({ vendorId: "10c4", productId: "ea60", serial: "SER1" });
    const both = checkUsbInputs({
      connection,
      device: { vendorId: "10c4", productId: "ea60", serial: "S", path: "1-2" },
      vm: { uuid: "0b1e3b52-5f4c-4b0c-9a70-1d1a2b3c4d5e" },
    });
    expect(both.failures.map((f) => f.property)).toEqual(["device"]);
    expect(both.failures[0]?.reason).toMatch(/mutually exclusive/);
    const neither = checkUsbInputs({
      connection,
      device: { vendorId: "10c4", productId: "ea60" },
      vm: { nameLabel: "x" },
    });
    expect(neither.failures.map((f) => f.property)).toEqual(["device"]);
    expect(neither.failures[0]?.reason).toMatch(/set serial/);
  });

  test("a bad id, port path or unknown key is refused by name, without echoing the value", () => {
    const { failures } = checkUsbInputs({
      connection,
      device: { vendorId: "10c4;", productId: "zz", path: "1-2/../x", bus: 1 },
      vm: { nameLabel: "ha" },
    });
    const props = failures.map((f) => f.property);
    expect(props).toEqual(
      expect.arrayContaining(["device.vendorId", "device.productId", "device.path", "device.bus"]),
    );
    expect(JSON.stringify(failures)).not.toContain("1-2/../x");
  });

  test("the preview's unknown sentinel passes check", () => {
    expect(checkUsbInputs({ connection, device: UNKNOWN, vm: { nameLabel: "ha" } }).failures).toEqual([]);
  });
});

describe("create", () => {
  test("a disabled device and a running VM: enable, mark, create the VUSB, and the VM must restart", () => {
    const plan = planUsbConverge(look(), wanted);
    expect(plan).toMatchObject({
      enablePassthrough: true,
      markEnabledBy: true,
      createVusb: true,
      destroyVusbs: [],
      releasePusbs: [],
      retagVusb: undefined,
      restartRequired: true,
    });
    expect(convergeChangesHost(plan)).toBe(true);
  });

  test("already enabled by someone else: passthrough is left as it is and not marked ours", () => {
    const plan = planUsbConverge(look({ matches: [{ ...stick, passthroughEnabled: true }] }), wanted);
    expect(plan).toMatchObject({ enablePassthrough: false, markEnabledBy: false, createVusb: true });
  });

  test("a halted VM needs no restart: the device attaches when it starts", () => {
    const plan = planUsbConverge(look({ vms: [{ ...ha, powerState: "Halted" }] }), wanted);
    expect(plan.restartRequired).toBe(false);
  });

  test("everything in place: nothing to change", () => {
    const done = vusb({ currentlyAttached: true });
    const view = look({
      matches: [{ ...stick, passthroughEnabled: true, enabledBy: OWNER }],
      vusbs: [done],
      enabledByUs: [{ ...stick, passthroughEnabled: true, enabledBy: OWNER }],
    });
    const plan = planUsbConverge(view, wanted);
    expect(convergeChangesHost(plan)).toBe(false);
    expect(plan).toMatchObject({ keptVusb: done, restartRequired: false });
  });
});

describe("update", () => {
  test("another VM: our old VUSB goes, a new one is made; the device stays enabled", () => {
    const nas: UsbVmFacts = { ...ha, ref: "OpaqueRef:vm-nas", uuid: "vm-nas", nameLabel: "nas" };
    const old = vusb();
    const enabled = { ...stick, passthroughEnabled: true, enabledBy: OWNER };
    const plan = planUsbConverge(
      look({ matches: [enabled], vms: [nas], vusbs: [old], enabledByUs: [enabled] }),
      { ...wanted, vm: { nameLabel: "nas" } },
    );
    expect(plan).toMatchObject({
      destroyVusbs: [old],
      createVusb: true,
      releasePusbs: [],
      enablePassthrough: false,
    });
  });

  test("another device: the old one is released (disabled, since we enabled it) and the new one enabled", () => {
    const oldStick = { ...stick, passthroughEnabled: true, enabledBy: OWNER };
    const newStick: UsbDeviceFacts = {
      ...stick,
      ref: "OpaqueRef:pusb2",
      uuid: "pusb-2",
      serial: "SER2",
      path: "1-3",
      groupRef: "OpaqueRef:group2",
    };
    const old = vusb();
    const plan = planUsbConverge(look({ matches: [newStick], vusbs: [old], enabledByUs: [oldStick] }), {
      ...wanted,
      device: { vendorId: "10c4", productId: "ea60", serial: "SER2" },
    });
    expect(plan).toMatchObject({
      destroyVusbs: [old],
      releasePusbs: [{ ref: oldStick.ref, uuid: oldStick.uuid, disable: true }],
      enablePassthrough: true,
      createVusb: true,
    });
  });

  test("a rename: the earlier owner's VUSB and mark are taken over, nothing re-made", () => {
    const old = vusb({ owner: "homelab/dev/old-name", currentlyAttached: true });
    const enabled = { ...stick, passthroughEnabled: true, enabledBy: "homelab/dev/old-name" };
    const plan = planUsbConverge(
      look({
        previousOwner: "homelab/dev/old-name",
        matches: [enabled],
        vusbs: [old],
        enabledByUs: [enabled],
      }),
      wanted,
    );
    expect(plan).toMatchObject({ retagVusb: old, markEnabledBy: true, createVusb: false, destroyVusbs: [] });
  });

  test("moving an attached VUSB is refused before any change", () => {
    const nas: UsbVmFacts = { ...ha, ref: "OpaqueRef:vm-nas", uuid: "vm-nas", nameLabel: "nas" };
    const error = refusal(() =>
      planUsbConverge(look({ vms: [nas], vusbs: [vusb({ currentlyAttached: true })] }), {
        ...wanted,
        vm: { nameLabel: "nas" },
      }),
    );
    expect(error.code).toBe("USB_STILL_ATTACHED");
    expect(error.message).toMatch(/shut the VM down/);
  });
});

describe("refusals before any change", () => {
  test.each([
    ["no such device", look({ matches: [] }), "USB_DEVICE_NOT_FOUND", /pulumi-xen-passthrough usb/],
    [
      "the device is on another host",
      look({ matches: [], elsewhere: [{ ...stick, hostUuid: "host-2", hostName: "xcp2" }] }),
      "USB_DEVICE_ON_OTHER_HOST",
      /host xcp2/,
    ],
    [
      "two devices match",
      look({ matches: [stick, { ...stick, ref: "OpaqueRef:p2", path: "1-4" }] }),
      "USB_DEVICE_AMBIGUOUS",
      /device\.path/,
    ],
    ["no such VM", look({ vms: [] }), "USB_VM_NOT_FOUND", /vm\.uuid or vm\.nameLabel/],
    [
      "two VMs by that name",
      look({ vms: [ha, { ...ha, ref: "r2", uuid: "vm-2" }] }),
      "USB_VM_AMBIGUOUS",
      /use vm\.uuid/,
    ],
    ["dom0", look({ vms: [{ ...ha, isControlDomain: true }] }), "USB_VM_IS_CONTROL_DOMAIN", /name a guest/],
    [
      "the stick is a disk dom0 uses",
      look({ matches: [{ ...stick, diskUse: { vdiUuid: "vdi-9", users: ["dom0"] } }] }),
      "USB_DEVICE_IN_USE_AS_DISK",
      /PUSB_VDI_CONFLICT.*Remove that disk's VBD/,
    ],
    [
      "another VM holds it",
      look({ vusbs: [vusb({ owner: undefined, vmRef: "OpaqueRef:vm-x", vmUuid: "vm-x", vmName: "kodi" })] }),
      "USB_DEVICE_HELD_BY_OTHER_VM",
      /held by VM "kodi".*xe vusb-destroy/,
    ],
    [
      "a hand-made VUSB on this VM",
      look({ vusbs: [vusb({ owner: undefined })] }),
      "USB_DEVICE_HAS_UNMANAGED_VUSB",
      /made outside/,
    ],
    [
      "another resource owns it",
      look({ vusbs: [vusb({ owner: "other/stack/stick" })] }),
      "USB_DEVICE_OWNED_ELSEWHERE",
      /other\/stack\/stick/,
    ],
    ["the VM has six VUSBs", look({ vms: [{ ...ha, vusbCount: 6 }] }), "USB_VM_TOO_MANY_VUSBS", /allows 6/],
    [
      "the VM is HA-protected",
      look({ vms: [{ ...ha, haRestartPriority: "restart" }] }),
      "USB_VM_HA_RESTART",
      /best-effort/,
    ],
  ])("%s", (_what, view, code, message) => {
    const error = refusal(() => planUsbConverge(view, wanted));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });
});

describe("delete", () => {
  test("our VUSB goes, then the passthrough we enabled is disabled and unmarked", () => {
    const enabled = { ...stick, passthroughEnabled: true, enabledBy: OWNER };
    const ours = vusb({ vmPowerState: "Halted" });
    expect(planUsbRemoval(look({ vusbs: [ours], enabledByUs: [enabled] }))).toEqual({
      destroyVusbs: [ours],
      releasePusbs: [{ ref: enabled.ref, uuid: enabled.uuid, disable: true }],
    });
  });

  test("passthrough someone else enabled is left on", () => {
    const ours = vusb();
    expect(planUsbRemoval(look({ vusbs: [ours] }))).toEqual({ destroyVusbs: [ours], releasePusbs: [] });
  });

  test("a foreign VUSB on a group we enabled keeps passthrough on (disabling would destroy it)", () => {
    const enabled = { ...stick, passthroughEnabled: true, enabledBy: OWNER };
    const theirs = vusb({ owner: undefined, vmRef: "OpaqueRef:vm-x" });
    expect(planUsbRemoval(look({ vusbs: [theirs], enabledByUs: [enabled] })).releasePusbs).toEqual([
      { ref: enabled.ref, uuid: enabled.uuid, disable: false },
    ]);
  });

  test("an attached VUSB is refused: shut the VM down first", () => {
    const error = refusal(() => planUsbRemoval(look({ vusbs: [vusb({ currentlyAttached: true })] })));
    expect(error.code).toBe("USB_STILL_ATTACHED");
  });

  test("nothing left: an empty plan", () => {
    expect(planUsbRemoval(look())).toEqual({ destroyVusbs: [], releasePusbs: [] });
  });
});

describe("drift and outputs", () => {
  const enabled = { ...stick, passthroughEnabled: true, enabledBy: OWNER };
  const recorded = { path: "1-2", currentlyAttached: true, vmPowerState: "Running" };
  const inSync = look({
    matches: [enabled],
    vusbs: [vusb({ currentlyAttached: true })],
    enabledByUs: [enabled],
  });

  test("in sync: no drift; outputs name the pieces", () => {
    expect(usbDrift(inSync, wanted, recorded)).toEqual([]);
    expect(usbStateOf(inSync, [])).toMatchObject({
      pusbUuid: "pusb-1",
      vusbUuid: "vusb-1",
      passthroughEnabled: true,
      currentlyAttached: true,
      restartRequired: false,
      notice: "",
    });
  });

  test("a new VUSB on a running VM: no drift, but the outputs say plainly to restart the VM", () => {
    const state = usbStateOf(look({ matches: [enabled], vusbs: [vusb()] }), []);
    expect(state.restartRequired).toBe(true);
    expect(state.notice).toMatch(/must restart.*xe vm-shutdown uuid=vm-ha; xe vm-start uuid=vm-ha/);
    expect(
      usbDrift(look({ matches: [enabled], vusbs: [vusb()] }), wanted, {
        ...recorded,
        currentlyAttached: false,
      }),
    ).toEqual([]);
  });

  test.each([
    [
      "passthrough disabled",
      look({ matches: [stick], vusbs: [vusb({ currentlyAttached: true })] }),
      /passthrough was disabled/,
    ],
    ["VUSB gone", look({ matches: [enabled] }), /the VUSB is gone/],
    ["VUSB unplugged", look({ matches: [enabled], vusbs: [vusb()] }), /unplugged/],
    [
      "another port",
      look({ matches: [{ ...enabled, path: "1-4" }], vusbs: [vusb({ currentlyAttached: true })] }),
      /moved from port 1-2 to port 1-4/,
    ],
    [
      "another host",
      look({ matches: [], elsewhere: [{ ...enabled, hostName: "xcp2", path: "2-1" }] }),
      /moved to host xcp2 \(port 2-1\)/,
    ],
    ["unplugged from the host", look({ matches: [] }), /gone from host xcp1/],
    [
      "VM halted",
      look({ matches: [enabled], vms: [{ ...ha, powerState: "Halted" }], vusbs: [vusb()] }),
      /Halted now/,
    ],
    ["VM gone", look({ matches: [enabled], vms: [] }), /the VM is gone/],
  ])("%s", (_what, view, pattern) => {
    expect(usbDrift(view, wanted, recorded)).toEqual(
      expect.arrayContaining([expect.stringMatching(pattern)]),
    );
  });
});

describe("diff", () => {
  const olds = { connection, device: wanted.device, vm: wanted.vm, owner: OWNER, drift: [] };
  test("same inputs, no drift: no change", () => {
    expect(
      planUsbDiff(olds, { connection, device: wanted.device, vm: wanted.vm, owner: OWNER }),
    ).toMatchObject({ changes: false, replaces: [] });
  });
  test("another VM or device: an update (it converges), not a replace", () => {
    expect(planUsbDiff(olds, { ...olds, vm: { nameLabel: "nas" } })).toMatchObject({
      changes: true,
      replaces: [],
    });
  });
  test("another host: a replace, the old pieces deleted first", () => {
    expect(planUsbDiff(olds, { ...olds, connection: { ...connection, host: "xcp2.lan" } })).toMatchObject({
      changes: true,
      replaces: ["connection"],
      deleteBeforeReplace: true,
    });
  });
  test("recorded drift: an update", () => {
    expect(planUsbDiff({ ...olds, drift: ["the VUSB is gone"] }, olds).reasons).toEqual([
      "drift: the VUSB is gone",
    ]);
  });
});

describe("the baseline a refresh carries forward", () => {
  const enabled = { ...stick, passthroughEnabled: true, enabledBy: OWNER };
  const halted = { path: "1-2", currentlyAttached: false, vmPowerState: "Halted" };

  test("what got better is taken in: a VM started and the device attached", () => {
    const view = look({ matches: [enabled], vusbs: [vusb({ currentlyAttached: true })] });
    expect(carriedBaseline(halted, view)).toEqual({
      path: "1-2",
      currentlyAttached: true,
      vmPowerState: "Running",
    });
  });

  test("what got worse is not: a halt stays drift until the next up", () => {
    const running = { path: "1-2", currentlyAttached: true, vmPowerState: "Running" };
    const view = look({ matches: [enabled], vms: [{ ...ha, powerState: "Halted" }], vusbs: [vusb()] });
    expect(carriedBaseline(running, view)).toEqual(running);
    expect(usbDrift(view, wanted, recordedOf({ converged: running }))).toEqual([
      "the VM is Halted now (it was Running)",
    ]);
  });

  test("a state without a baseline carries none", () => {
    expect(carriedBaseline(recordedOf({}), look())).toBeUndefined();
  });
});
