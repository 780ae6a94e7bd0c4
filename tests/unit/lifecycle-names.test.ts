// Symlink names per host (issue 12) without root: the host's sm version in the view, stable
// names where the udev SR resolves symlinks, the migration of kernel-named passthroughs, and the
// repair of VBDs left on another disk after two disks swapped kernel names.
import { planDiff } from "#provider/core/diff-plan.js";
import { renderRule } from "#provider/core/rule.js";
import { convergeFrom } from "#provider/lifecycle/converge.js";
import { kernelNameToRecord, stateFromView } from "#provider/lifecycle/outputs.js";
import { diskInputs, look, PV_GUEST, useLifecycleHost } from "./lifecycle-fixture.js";

const host = useLifecycleHost();

afterEach(() => {
  host().dom0.smVersion = undefined;
});

test("the look reads the host's sm version: 3.x resolves symlinks, 2.30.8 and none do not", async () => {
  const { dom0, access } = host();
  const inputs = diskInputs("BOOT-0");
  for (const [version, resolves] of [
    ["3.2.3", true],
    ["2.30.8", false],
    [undefined, false],
  ] as const) {
    dom0.smVersion = version;
    const view = await look(access, inputs);
    expect({ smVersion: view.smVersion, resolvesSymlinks: view.resolvesSymlinks }).toEqual({
      smVersion: version,
      resolvesSymlinks: resolves,
    });
  }
});

/** Converges a disk of the fake dom0 (by serial) to a VM, as create (or update) does. */
async function converge(serial: string, overrides: Record<string, unknown> = {}, rollbackEarly = true) {
  const { access, log } = host();
  const inputs = diskInputs(serial, overrides);
  const view = await look(access, inputs, rollbackEarly ? undefined : { owner: undefined });
  return convergeFrom(access, view, inputs, { rollbackEarly }, log);
}

/** A refresh: the state read would return, from a fresh look. */
async function refresh(serial: string, recordedKernelName: string, overrides: Record<string, unknown> = {}) {
  const { access } = host();
  const inputs = diskInputs(serial, overrides);
  const view = await look(access, inputs);
  const kernelName = kernelNameToRecord(view, inputs, recordedKernelName);
  return stateFromView(view, inputs, kernelName);
}

function vbdOf(uuid: string) {
  const state = host().sim.control.state();
  const vbd = state.vbds.find((b) => b.uuid === uuid);
  return { vbd, vdi: state.vdis.find((v) => v.ref === vbd?.vdi) };
}

function vbdCalls(): string[] {
  return host()
    .sim.control.trace.get()
    .calls.map((call) => call.method)
    .filter((method) => /^VBD\.(plug|unplug|create|destroy)/.test(method));
}

describe("on a host whose udev SR resolves symlinks (sm 3.2.3)", () => {
  beforeEach(() => {
    host().dom0.smVersion = "3.2.3";
  });

  test("create names the symlink after the serial, runs no local-device-change, and the VDI lives there", async () => {
    const { dom0 } = host();
    dom0.addDisk("sdb", "STABLE-1", 16);
    const { id, state } = await converge("STABLE-1");
    const rule = renderRule({ serial: "STABLE-1" }, id, "stable");
    expect(dom0.rules().get(rule.path)).toBe(rule.text);
    expect(rule.text).not.toContain("local-device-change");
    expect(dom0.symlinks.get("xp-serial-STABLE-1")).toBe("sdb");
    expect(dom0.symlinks.has("sdb")).toBe(false);
    expect(vbdOf(state.vbdUuid).vdi?.location).toBe("/dev/xapi/block/xp-serial-STABLE-1");
    expect(state).toMatchObject({
      symlinkPath: "/dev/xapi/block/xp-serial-STABLE-1",
      ruleText: rule.text,
      currentlyAttached: true,
      drift: [],
    });
    expect(state.observed).toMatchObject({
      symlinkNaming: "stable",
      hostResolvesSymlinks: true,
      smVersion: "3.2.3",
    });
  });

  test("a reboot that renames the disk keeps its VDI and VBD: refresh finds no drift, up changes nothing", async () => {
    const { dom0 } = host();
    dom0.addDisk("sdd", "STABLE-2", 48);
    const { state } = await converge("STABLE-2");
    dom0.renameDisks({ "STABLE-2": "sdk" });
    expect(dom0.symlinks.get("xp-serial-STABLE-2")).toBe("sdk");
    const refreshed = await refresh("STABLE-2", state.kernelName);
    expect(refreshed.drift).toEqual([]);
    expect(refreshed).toMatchObject({ vbdUuid: state.vbdUuid, vdiUuid: state.vdiUuid, kernelName: "sdk" });
    expect(
      planDiff(refreshed as unknown as Record<string, unknown>, diskInputs("STABLE-2") as never).changes,
    ).toBe(false);
  });

  test("a kernel-named passthrough is migrated by an update: one unplug, one plug, same slot and mode", async () => {
    const { dom0, sim } = host();
    dom0.addDisk("sde", "MIGRATE-1", 64);
    dom0.smVersion = undefined; // made by a host (or a version) that kept kernel names
    const made = await converge("MIGRATE-1", { userdevice: "3" });
    expect(made.state.observed.symlinkNaming).toBe("kernelName");
    dom0.smVersion = "3.2.3";
    const refreshed = await refresh("MIGRATE-1", made.state.kernelName, { userdevice: "3" });
    expect(refreshed.drift).toEqual([
      "the symlink is named after the kernel name (sde): this host resolves symlinks (sm 3.2.3), so an update renames it xp-serial-MIGRATE-1, which survives reboots",
    ]);
    // Preview: an update (not a replace), from the refreshed state alone.
    const plan = planDiff(
      refreshed as unknown as Record<string, unknown>,
      diskInputs("MIGRATE-1", { userdevice: "3" }) as never,
    );
    expect({ changes: plan.changes, replaces: plan.replaces }).toEqual({ changes: true, replaces: [] });
    sim.control.trace.reset();
    const { state } = await converge("MIGRATE-1", { userdevice: "3" }, false);
    expect(vbdCalls()).toEqual(["VBD.unplug", "VBD.destroy", "VBD.create", "VBD.plug"]);
    const { vbd, vdi } = vbdOf(state.vbdUuid);
    expect(vbd).toMatchObject({ userdevice: "3", currentlyAttached: true });
    expect(vdi?.location).toBe("/dev/xapi/block/xp-serial-MIGRATE-1");
    expect(dom0.symlinks.has("sde")).toBe(false);
    expect(sim.control.state().vdis.some((v) => v.location === "/dev/xapi/block/sde")).toBe(false);
    expect(state.observed.symlinkNaming).toBe("stable");
    expect(state.drift).toEqual([]);
  });

  test("the migration keeps an autodetected slot", async () => {
    const { dom0 } = host();
    dom0.addDisk("sdf", "MIGRATE-2", 80);
    dom0.smVersion = undefined;
    const made = await converge("MIGRATE-2");
    const slot = vbdOf(made.state.vbdUuid).vbd?.userdevice;
    dom0.smVersion = "3.2.3";
    const { state } = await converge("MIGRATE-2", {}, false);
    expect(state.vbdUuid).not.toBe(made.state.vbdUuid);
    expect(vbdOf(state.vbdUuid).vbd?.userdevice).toBe(slot);
  });
});

describe("two disks swap kernel names on a host that keeps kernel names (sm 2.30.8)", () => {
  test("refresh says which disk each VBD points at; converging both puts each back on its own disk", async () => {
    const { dom0, sim } = host();
    dom0.smVersion = "2.30.8";
    dom0.addDisk("sdg", "SWAP-A", 96);
    dom0.addDisk("sdh", "SWAP-B", 112);
    const a = await converge("SWAP-A", { userdevice: "7" });
    const b = await converge("SWAP-B", { vm: { nameLabel: PV_GUEST.nameLabel } });
    const slotB = vbdOf(b.state.vbdUuid).vbd?.userdevice;
    dom0.renameDisks({ "SWAP-A": "sdh", "SWAP-B": "sdg" });
    const refreshedA = await refresh("SWAP-A", "sdg", { userdevice: "7" });
    expect(refreshedA.drift).toEqual(
      expect.arrayContaining(["the VBD points at disk serial SWAP-B now; expected serial SWAP-A"]),
    );
    expect(refreshedA.drift.join("\n")).not.toContain("VDI that is gone");
    const plan = planDiff(
      refreshedA as unknown as Record<string, unknown>,
      diskInputs("SWAP-A", { userdevice: "7" }) as never,
    );
    expect(plan.replaces).toEqual([]);
    expect(plan.changes).toBe(true);
    // One `pulumi up` updates both at once; neither is refused as the other's.
    const [repairedA, repairedB] = await Promise.all([
      converge("SWAP-A", { userdevice: "7" }, false),
      converge("SWAP-B", { vm: { nameLabel: PV_GUEST.nameLabel } }, false),
    ]);
    const locationOf = (uuid: string) => vbdOf(uuid).vdi?.location;
    expect(locationOf(repairedA.state.vbdUuid)).toBe("/dev/xapi/block/sdh");
    expect(locationOf(repairedB.state.vbdUuid)).toBe("/dev/xapi/block/sdg");
    expect(vbdOf(repairedA.state.vbdUuid).vbd).toMatchObject({ userdevice: "7", currentlyAttached: true });
    expect(vbdOf(repairedB.state.vbdUuid).vbd).toMatchObject({ userdevice: slotB, currentlyAttached: true });
    expect(
      sim.control.state().vbds.filter((vbd) => [a.state.vbdUuid, b.state.vbdUuid].includes(vbd.uuid)),
    ).toEqual([]);
    expect(repairedA.state.drift).toEqual([]);
    expect(repairedB.state.drift).toEqual([]);
  });

  test("a rename already repaired (as the boot repair does) is a fact, not drift: refresh records the new name", async () => {
    const { dom0 } = host();
    dom0.smVersion = "2.30.8";
    dom0.addDisk("sdi", "REPAIRED-1", 128);
    await converge("REPAIRED-1");
    dom0.renameDisks({ "REPAIRED-1": "sdj" });
    // Before the repair: the disk is back under another name and the VBD is on a VDI that is gone.
    const before = await refresh("REPAIRED-1", "sdi");
    expect(before.drift).toContain("the disk came back as sdj (it was sdi)");
    await converge("REPAIRED-1", {}, false); // puts the VBD on the new name's VDI, as the boot repair does
    const after = await refresh("REPAIRED-1", "sdi");
    expect(after.drift).toEqual([]);
    expect(after).toMatchObject({ kernelName: "sdj", symlinkPath: "/dev/xapi/block/sdj" });
    expect(
      planDiff(after as unknown as Record<string, unknown>, diskInputs("REPAIRED-1") as never).changes,
    ).toBe(false);
  });
});
