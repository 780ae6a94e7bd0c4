// Host tier: PassthroughDisk on a 3-host pool (2 hosts with disks) through the real
// dynamic-provider host, reaching a pool member over SSH with no XAPI password (its local socket
// is a local superuser session: xapi_session.ml). A VM on another host is refused, HVM guests with
// and without PV drivers, and a hot-unplug refreshed inside XAPI's 30 s GC window.
import { startPool } from "xen-sandbox";
import type { PoolHostSandbox, SandboxDisk, SandboxPool } from "xen-sandbox";
import { useEngine, type Stored } from "../support/engine";
import { connectionTo } from "../support/sandbox";

let pool: SandboxPool | undefined;
beforeAll(async () => {
  pool = await startPool({
    hosts: 3,
    // Two hosts with disks (the member gets one per test), the third with none.
    disks: [2, 6, 0],
    model: {
      vms: [
        { nameLabel: "on-member", powerState: "Running", host: 1, affinity: 1, guest: "pv" },
        { nameLabel: "on-master", powerState: "Running", host: 0, guest: "pv" },
        { nameLabel: "no-tools", powerState: "Running", host: 1, guest: "hvm-no-pv-drivers" },
        { nameLabel: "windows", powerState: "Running", host: 1, guest: "hvm" },
        { nameLabel: "halted", powerState: "Halted", guest: "pv" },
      ],
    },
  });
});
afterAll(async () => {
  await pool?.stop();
});
const engine = useEngine();

const member = (): PoolHostSandbox => {
  const host = pool?.hosts[1];
  if (host === undefined) throw new Error("the pool did not start: see beforeAll");
  return host;
};
const control = () => member().simulator.control;
let used = 0;
/** A free disk of the member, a new one per test. */
function nextDisk(): SandboxDisk {
  const disk = member().disks.filter((each) => !each.inUse)[used];
  used += 1;
  if (disk === undefined) throw new Error("the member has no free disk left");
  return disk;
}
/** No `xapi` input: XAPI through the member's SSH connection, no password anywhere. */
const args = (disk: SandboxDisk, vm: string, extra: Record<string, unknown> = {}) => ({
  connection: connectionTo(member()),
  disk: { serial: disk.serial },
  vm: { nameLabel: vm },
  ...extra,
});
const observed = (stored: Stored) => stored.state["observed"] as Record<string, unknown>;
const refreshed = async (stored: Stored): Promise<Stored> => {
  const after = await engine().refresh(stored);
  if (after === undefined) throw new Error("refresh dropped the resource");
  return after;
};
const exists = async (path: string) => (await member().exec(`test -e ${path}`)).exitCode === 0;

test("create, refresh, repair and destroy through a member's SSH with no XAPI password", async () => {
  const disk = nextDisk();
  const created = await engine().create(args(disk, "on-member"));
  expect(created.state).toMatchObject({ hostUuid: member().host.uuid, currentlyAttached: true, drift: [] });
  expect(observed(created)).toMatchObject({
    vmResidentOn: member().host.uuid,
    vmOnDiskHost: true,
    vmAffinityOnDiskHost: true,
  });
  control().drift.unplugVbd(String(created.state["vbdUuid"]));
  const drifted = await refreshed(created);
  expect(drifted.state["drift"]).toEqual([expect.stringMatching(/unplugged/)]);
  const repaired = await engine().up(drifted, args(disk, "on-member"));
  expect(repaired.state).toMatchObject({ currentlyAttached: true, drift: [] });
  await engine().destroy(repaired);
  expect(await exists(String(created.state["rulePath"]))).toBe(false);
  expect(
    control()
      .state()
      .vbds.some((vbd) => vbd.uuid === created.state["vbdUuid"]),
  ).toBe(false);
});

test("a VM running on another host of the pool: refused before any change, naming both hosts", async () => {
  const disk = nextDisk();
  const master = pool?.master.host.uuid ?? "";
  await expect(engine().create(args(disk, "on-master"))).rejects.toThrow(
    new RegExp(
      `runs on host "[^"]+" \\(${master}\\), but the disk is on host "[^"]+" \\(${member().host.uuid}\\)`,
    ),
  );
  const rulePath = `/etc/udev/rules.d/`;
  expect((await member().exec(`ls ${rulePath} | grep -c ${disk.serial} || true`)).stdout.trim()).toBe("0");
});

test("HVM guests: RO refused; without PV drivers the disk waits, then attaches once the drivers appear", async () => {
  const disk = nextDisk();
  await expect(engine().create(args(disk, "windows", { mode: "RO" }))).rejects.toThrow(
    /HVM guest.*DISK_VBD_MUST_BE_READWRITE_FOR_HVM/,
  );
  const created = await engine().create(args(disk, "no-tools"));
  expect(created.state).toMatchObject({ currentlyAttached: false, vbdUuid: expect.any(String) as string });
  expect(created.state["drift"]).toEqual([expect.stringMatching(/attaches when the VM next starts/)]);
  expect(engine().host.output()).toMatch(/runs without PV drivers/);
  // Nothing an update could do: no change planned, so no retry storm.
  expect((await engine().preview(created, args(disk, "no-tools"))).changes).toBe("none");
  control().drift.setGuest("no-tools", "hvm");
  const drifted = await refreshed(created);
  expect(drifted.state["drift"]).toEqual([expect.stringMatching(/unplugged/)]);
  const attached = await engine().up(drifted, args(disk, "no-tools"));
  expect(attached.state).toMatchObject({ currentlyAttached: true, drift: [] });
  await engine().destroy(attached);
});

test("a hot-unplug, then the disk back under another name, refreshed inside the GC window", async () => {
  const disk = nextDisk();
  const created = await engine().create(args(disk, "on-member"));
  await member().unplugDisk(disk.serial);
  const gone = await refreshed(created);
  // Inside the window: our VBD is still there, its VDI reference dead; read reports it.
  expect(observed(gone)).toMatchObject({ diskPresent: false, vbdPresent: true, vbdOnCurrentVdi: false });
  expect(gone.state["drift"]).toEqual(expect.arrayContaining([expect.stringMatching(/disk is not present/)]));
  const renamed = await member().replugDisk(disk.serial);
  const back = await refreshed(gone);
  expect(observed(back)).toMatchObject({ kernelName: renamed, vbdPresent: true });
  const repaired = await engine().up(back, args(disk, "on-member"));
  expect(repaired.state).toMatchObject({ kernelName: renamed, currentlyAttached: true, drift: [] });
  const ours = control()
    .state()
    .vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] === repaired.id);
  expect(ours).toEqual([
    expect.objectContaining({ uuid: repaired.state["vbdUuid"], currentlyAttached: true }),
  ]);
  await engine().destroy(repaired);
});

test("affinity: reported, and set only with setAffinity: true", async () => {
  const disk = nextDisk();
  const vmAffinity = () =>
    control()
      .state()
      .vms.find((vm) => vm.nameLabel === "halted")?.affinity;
  const before = vmAffinity();
  const created = await engine().create(args(disk, "halted"));
  expect(observed(created)).toMatchObject({ vmAffinityOnDiskHost: false, vmOnDiskHost: true });
  expect(vmAffinity()).toBe(before);
  expect((await engine().preview(created, args(disk, "halted"))).changes).toBe("none");
  const updated = await engine().up(created, args(disk, "halted", { setAffinity: true }));
  expect(observed(updated)).toMatchObject({ vmAffinityOnDiskHost: true });
  expect(vmAffinity()).toBe(member().simulator.hosts.find((host) => host.uuid === member().host.uuid)?.ref);
  expect((await refreshed(updated)).state["drift"]).toEqual([expect.stringMatching(/VM is Halted/)]);
  await engine().destroy(updated);
});
