// Issue 12 end to end, through the real dynamic-provider host: stable symlink names on a host
// whose udev SR resolves symlinks (sm 3.2.3, XCP-ng 8.3), the migration of a kernel-named
// passthrough, whole-host reboots that rename or swap disks with VMs auto-starting, and on a
// host that keeps kernel names (sm 2.30.8, XCP-ng 8.2) the swap reported and repaired.
import type { Sandbox, SandboxDisk } from "xen-sandbox";
import { useEngine, type Stored } from "../support/engine";
import { connectionTo, useSandbox } from "../support/sandbox";

/** Two running PV guests (they take hot-plugged disks), both started again by a reboot. */
const model = {
  vms: [
    { nameLabel: "nas", powerState: "Running" as const, guest: "pv" as const },
    { nameLabel: "media", powerState: "Running" as const, guest: "pv" as const },
  ],
};

function args(sandbox: Sandbox, disk: SandboxDisk, vm: string, extra: Record<string, unknown> = {}) {
  return {
    connection: connectionTo(sandbox),
    disk: { serial: disk.serial },
    vm: { nameLabel: vm },
    ...extra,
  };
}

function freeDisks(sandbox: Sandbox): SandboxDisk[] {
  return sandbox.disks.filter((d) => !d.inUse);
}

function refreshed(stored: Stored | undefined): Stored {
  if (stored === undefined) throw new Error("refresh dropped the resource");
  return stored;
}

function observed(stored: Stored): Record<string, unknown> {
  return stored.state["observed"] as Record<string, unknown>;
}

/** Our VBD as XAPI holds it, with its VDI's location. */
function vbdOf(sandbox: Sandbox, stored: Stored) {
  const state = sandbox.simulator.control.state();
  const vbd = state.vbds.find((b) => b.uuid === stored.state["vbdUuid"]);
  const vdi = state.vdis.find((v) => v.ref === vbd?.vdi);
  const vm = state.vms.find((v) => v.ref === vbd?.vm);
  return { vbd, location: vdi?.location, vm: vm?.nameLabel };
}

/** Where a /dev/xapi/block entry resolves to in dom0 ("" when it does not exist). */
async function resolved(sandbox: Sandbox, path: string): Promise<string> {
  const { stdout } = await sandbox.exec(`readlink -f ${path}`);
  return stdout.trim().replace(/^\/dev\//, "");
}

async function exists(sandbox: Sandbox, path: string): Promise<boolean> {
  return (await sandbox.exec(`test -e ${path}`)).exitCode === 0;
}

/** Sets other_config:auto_poweron=true on the pool and the VMs, as `xe pool-param-set` would. */
async function autoPowerOn(sandbox: Sandbox, vms: readonly string[]): Promise<void> {
  const { createClient } = await import("xen-api");
  const sim = sandbox.simulator;
  const xapi = createClient({
    url: sim.url,
    auth: { user: sim.username, password: sim.password },
    allowUnauthorized: true,
    watchEvents: false,
  });
  await xapi.connect();
  try {
    const [pool] = await xapi.call<string[]>("pool.get_all");
    await xapi.call("pool.add_to_other_config", pool, "auto_poweron", "true");
    for (const name of vms) {
      const [vm] = await xapi.call<string[]>("VM.get_by_name_label", name);
      await xapi.call("VM.add_to_other_config", vm, "auto_poweron", "true");
    }
  } finally {
    await xapi.disconnect();
  }
}

function vbdCalls(sandbox: Sandbox): Record<string, number> {
  const counts = sandbox.simulator.control.trace.get().countsByMethod;
  return Object.fromEntries(
    ["VBD.unplug", "VBD.destroy", "VBD.create", "VBD.plug"].map((method) => [method, counts[method] ?? 0]),
  );
}

describe("a host whose udev SR resolves symlinks (sm 3.2.3, XCP-ng 8.3)", () => {
  const sandbox = useSandbox({ disks: 3, model });
  const engine = useEngine();

  test("create names the symlink after the serial; a kernel rename keeps the VDI and the VBD", async () => {
    const disk = freeDisks(sandbox())[0]!;
    const before = disk.kernelName;
    const created = await engine().create(args(sandbox(), disk, "nas"));
    const path = `/dev/xapi/block/xp-serial-${disk.serial}`;
    expect(created.state).toMatchObject({ symlinkPath: path, currentlyAttached: true, drift: [] });
    expect(observed(created)).toMatchObject({ symlinkNaming: "stable", hostResolvesSymlinks: true });
    expect(String(created.state["ruleText"])).not.toContain("local-device-change");
    expect(await resolved(sandbox(), path)).toBe(before);
    expect(vbdOf(sandbox(), created).location).toBe(path);

    const renamed = await sandbox().rebootDisk(disk.serial);
    expect(renamed).not.toBe(before);
    expect(await resolved(sandbox(), path)).toBe(renamed);
    const again = refreshed(await engine().refresh(created));
    expect(again.state["drift"]).toEqual([]);
    expect(again.state).toMatchObject({
      vbdUuid: created.state["vbdUuid"],
      vdiUuid: created.state["vdiUuid"],
      kernelName: renamed,
    });
    expect((await engine().preview(again, args(sandbox(), disk, "nas"))).changes).toBe("none");
    await engine().destroy(again);
    expect(await exists(sandbox(), path)).toBe(false);
  });

  test("a kernel-named passthrough (as sm-less hosts and earlier versions made it) migrates as an update, one unplug and one plug", async () => {
    const disk = freeDisks(sandbox())[1]!;
    const wanted = args(sandbox(), disk, "media", { userdevice: "4" });
    // The provider reads sm's version with rpm; without an answer it keeps kernel names.
    await sandbox().exec("mv /opt/xensource/bin/rpm /opt/xensource/bin/rpm.hidden");
    let made: Stored;
    try {
      made = await engine().create(wanted);
    } finally {
      await sandbox().exec("mv /opt/xensource/bin/rpm.hidden /opt/xensource/bin/rpm");
    }
    expect(made.state["symlinkPath"]).toBe(`/dev/xapi/block/${disk.kernelName}`);
    expect(observed(made)["symlinkNaming"]).toBe("kernelName");

    const stale = refreshed(await engine().refresh(made));
    expect(stale.state["drift"]).toEqual([expect.stringMatching(/named after the kernel name .*xp-serial-/)]);
    const preview = await engine().preview(stale, wanted);
    expect(preview).toMatchObject({ changes: "some", replaces: [] });

    sandbox().simulator.control.trace.reset();
    const migrated = await engine().up(stale, wanted);
    expect(vbdCalls(sandbox())).toEqual({
      "VBD.unplug": 1,
      "VBD.destroy": 1,
      "VBD.create": 1,
      "VBD.plug": 1,
    });
    const path = `/dev/xapi/block/xp-serial-${disk.serial}`;
    expect(vbdOf(sandbox(), migrated)).toMatchObject({
      vbd: { userdevice: "4", currentlyAttached: true },
      location: path,
      vm: "media",
    });
    expect(await exists(sandbox(), `/dev/xapi/block/${disk.kernelName}`)).toBe(false);
    const after = refreshed(await engine().refresh(migrated));
    expect(after.state["drift"]).toEqual([]);
    expect(observed(after)["symlinkNaming"]).toBe("stable");
    await engine().destroy(after);
  });

  test("host reboots, one renaming a disk and one swapping two: each VM auto-starts with its own disk", async () => {
    const [a, b, spare] = freeDisks(sandbox()) as [SandboxDisk, SandboxDisk, SandboxDisk];
    const wantedA = args(sandbox(), a, "nas");
    const wantedB = args(sandbox(), b, "media");
    let storedA = await engine().create(wantedA);
    let storedB = await engine().create(wantedB);
    await autoPowerOn(sandbox(), ["nas", "media"]);
    const check = async (report: Awaited<ReturnType<Sandbox["reboot"]>>) => {
      expect(report.autoStart.map(({ started, error }) => ({ started, error }))).toEqual([
        { started: true, error: undefined },
        { started: true, error: undefined },
      ]);
      for (const [disk, stored, vm] of [
        [a, storedA, "nas"],
        [b, storedB, "media"],
      ] as const) {
        const path = `/dev/xapi/block/xp-serial-${disk.serial}`;
        expect(vbdOf(sandbox(), stored)).toMatchObject({
          vbd: { currentlyAttached: true },
          location: path,
          vm,
        });
        expect(await resolved(sandbox(), path)).toBe(report.kernelNames[disk.serial]);
      }
      storedA = refreshed(await engine().refresh(storedA));
      storedB = refreshed(await engine().refresh(storedB));
      expect([storedA.state["drift"], storedB.state["drift"]]).toEqual([[], []]);
      expect((await engine().preview(storedA, wantedA)).changes).toBe("none");
      expect((await engine().preview(storedB, wantedB)).changes).toBe("none");
    };

    // A rename: a's disk comes back under the spare disk's name (the spare is unplugged first).
    const spareName = spare.kernelName;
    await sandbox().unplugDisk(spare.serial);
    const renamed = await sandbox().reboot({ kernelNames: { [a.serial]: spareName } });
    expect(renamed.kernelNames[a.serial]).toBe(spareName);
    await check(renamed);

    // A swap: a and b trade kernel names.
    const nameA = renamed.kernelNames[a.serial]!;
    const nameB = renamed.kernelNames[b.serial]!;
    const swapped = await sandbox().reboot({ kernelNames: { [a.serial]: nameB, [b.serial]: nameA } });
    expect([swapped.kernelNames[a.serial], swapped.kernelNames[b.serial]]).toEqual([nameB, nameA]);
    await check(swapped);

    await engine().destroy(storedA);
    await engine().destroy(storedB);
  });
});

describe("a host that keeps kernel names (sm 2.30.8, XCP-ng 8.2)", () => {
  // XAPI's GC runs every 30 s, as on a real host: a renamed disk meets a plugged VBD whose VDI
  // is gone, and the provider waits it out.
  const sandbox = useSandbox({ disks: 3, model, smVersion: "2.30.8" });
  const engine = useEngine();

  test("the disk back under another kernel name: drift, and up moves the VBD to the new VDI after XAPI's GC", async () => {
    const disk = freeDisks(sandbox())[2]!;
    const wanted = args(sandbox(), disk, "media");
    const created = await engine().create(wanted);
    expect(created.state["symlinkPath"]).toBe(`/dev/xapi/block/${disk.kernelName}`);
    const after = await sandbox().rebootDisk(disk.serial);
    const stale = refreshed(await engine().refresh(created));
    expect(stale.state["drift"]).toEqual(
      expect.arrayContaining([expect.stringMatching(`came back as ${after}`)]),
    );
    expect((await engine().preview(stale, wanted)).changes).toBe("some");
    const repaired = await engine().up(stale, wanted);
    expect(repaired.state).toMatchObject({ kernelName: after, currentlyAttached: true, drift: [] });
    // The old VBD was plugged with its VDI gone: XAPI refuses to unplug or destroy it, its GC drops it.
    expect(engine().host.output()).toMatch(/its VDI is gone: waiting for XAPI's database GC/);
    expect(vbdOf(sandbox(), repaired)).toMatchObject({
      vbd: { currentlyAttached: true },
      location: `/dev/xapi/block/${after}`,
    });
    await engine().destroy(refreshed(await engine().refresh(repaired)));
  });

  test("two passed-through disks swap kernel names in a reboot with the boot repair removed: refresh names the wrong disk, up puts each back", async () => {
    const [a, b] = freeDisks(sandbox()) as [SandboxDisk, SandboxDisk];
    const wantedA = args(sandbox(), a, "nas", { userdevice: "3" });
    const wantedB = args(sandbox(), b, "media");
    const createdA = await engine().create(wantedA);
    const createdB = await engine().create(wantedB);
    expect(observed(createdA)).toMatchObject({ symlinkNaming: "kernelName", hostResolvesSymlinks: false });
    const slotB = vbdOf(sandbox(), createdB).vbd?.userdevice;
    await autoPowerOn(sandbox(), ["nas", "media"]);

    // Without the boot repair (removed by hand here; a swap is reported on every host anyway),
    // both locations survive (the boot scan matches by location only): each VM starts with the other's disk.
    await sandbox().exec(
      "rm -f /etc/systemd/system/multi-user.target.wants/xen-passthrough-boot-repair.service",
    );
    const report = await sandbox().reboot({
      kernelNames: { [a.serial]: b.kernelName, [b.serial]: a.kernelName },
    });
    expect(report.autoStart.every((start) => start.started)).toBe(true);
    expect(await resolved(sandbox(), String(vbdOf(sandbox(), createdA).location))).toBe(
      report.kernelNames[b.serial],
    );

    const staleA = refreshed(await engine().refresh(createdA));
    const staleB = refreshed(await engine().refresh(createdB));
    expect(staleA.state["drift"]).toEqual(
      expect.arrayContaining([`the VBD points at disk serial ${b.serial} now; expected serial ${a.serial}`]),
    );
    expect(staleB.state["drift"]).toEqual(
      expect.arrayContaining([`the VBD points at disk serial ${a.serial} now; expected serial ${b.serial}`]),
    );
    expect(await engine().preview(staleA, wantedA)).toMatchObject({ changes: "some", replaces: [] });

    // One `pulumi up` updates both, at once.
    const [upA, upB] = await Promise.all([engine().up(staleA, wantedA), engine().up(staleB, wantedB)]);
    for (const [disk, stored, vm, slot] of [
      [a, upA, "nas", "3"],
      [b, upB, "media", slotB],
    ] as const) {
      const { vbd, location } = vbdOf(sandbox(), stored);
      expect(vbd).toMatchObject({ userdevice: slot, currentlyAttached: true });
      expect(vbdOf(sandbox(), stored).vm).toBe(vm);
      expect(await resolved(sandbox(), String(location))).toBe(report.kernelNames[disk.serial]);
    }
    const after = [refreshed(await engine().refresh(upA)), refreshed(await engine().refresh(upB))];
    expect(after.map((stored) => stored.state["drift"])).toEqual([[], []]);
    for (const stored of after) await engine().destroy(stored);
  });
});
