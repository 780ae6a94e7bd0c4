// One owner per disk, decided on the host; and a delete that resumes from any failure. Through
// the real dynamic-provider host: two resources naming one disk (one after the other, at once by
// serial and by WWN, on another VM) and a delete retried after VDI.forget failed.
import type { SandboxDisk } from "xen-sandbox";
import { useEngine, type Stored } from "../support/engine";
import { connectionTo, useSandbox } from "../support/sandbox";

const sandbox = useSandbox({
  disks: 3,
  model: {
    vms: [
      { nameLabel: "media-server", powerState: "Running" },
      { nameLabel: "backup", powerState: "Running" },
    ],
  },
});
const engine = useEngine();

const control = () => sandbox().simulator.control;
const free = (index: number): SandboxDisk => {
  const disk = sandbox().disks.filter((d) => !d.inUse)[index];
  if (disk === undefined) throw new Error(`no free disk #${index}`);
  return disk;
};
/** What the resource constructor passes: `<project>/<stack>/<name>`. */
const owned = (name: string, disk: Record<string, string>, vm = "media-server") => ({
  connection: connectionTo(sandbox()),
  disk,
  vm: { nameLabel: vm },
  owner: `homelab/dev/${name}`,
});
const tagged = () =>
  control()
    .state()
    .vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] !== undefined);
const vdiOf = (disk: SandboxDisk) =>
  control()
    .state()
    .vdis.find((vdi) => vdi.location === `/dev/xapi/block/${disk.kernelName}`);
async function ourRules(): Promise<string[]> {
  const { stdout } = await sandbox().exec("ls /etc/udev/rules.d");
  return stdout.split("\n").filter((name) => name.includes("xen-passthrough"));
}

afterEach(() => control().faults.clear());

async function expectClean(disk: SandboxDisk): Promise<void> {
  expect(tagged()).toEqual([]);
  expect(await ourRules()).toEqual([]);
  expect(vdiOf(disk)).toBeUndefined();
}

test("the same disk by the same identity, one after the other: the second is refused, naming the first", async () => {
  const disk = free(0);
  const first = await engine().create(owned("first", { serial: disk.serial }));
  const rulesBefore = await ourRules();
  await expect(engine().create(owned("second", { serial: disk.serial }))).rejects.toThrow(
    /belongs to PassthroughDisk homelab\/dev\/first/,
  );
  expect(await ourRules()).toEqual(rulesBefore);
  expect(tagged().map((vbd) => [vbd.uuid, vbd.currentlyAttached])).toEqual([[first.state["vbdUuid"], true]]);
  await engine().destroy(first);
  await expectClean(disk);
});

test("the same disk by serial and by WWN in one up: the host decides, one wins, nothing is left over", async () => {
  const disk = free(1);
  const outcomes = await Promise.allSettled([
    engine().create(owned("by-serial", { serial: disk.serial })),
    engine().create(owned("by-wwn", { wwn: disk.wwn })),
  ]);
  const won = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
  const lost = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as Error] : []));
  expect(won).toHaveLength(1);
  expect(lost).toHaveLength(1);
  expect(String(lost[0])).toMatch(/belongs to PassthroughDisk homelab\/dev\/by-(serial|wwn)/);
  expect(tagged()).toHaveLength(1);
  expect(await ourRules()).toHaveLength(1);
  await engine().destroy(won[0] as Stored);
  await expectClean(disk);
});

test("the same disk for another VM: refused, and the first VM keeps its disk", async () => {
  const disk = free(2);
  const first = await engine().create(owned("media", { serial: disk.serial }));
  await expect(engine().create(owned("backup", { serial: disk.serial }, "backup"))).rejects.toThrow(
    /belongs to PassthroughDisk homelab\/dev\/media/,
  );
  const vbds = tagged();
  expect(vbds.map((vbd) => vbd.uuid)).toEqual([first.state["vbdUuid"]]);
  expect(vbds[0]?.currentlyAttached).toBe(true);
  const vm = control()
    .state()
    .vms.find((candidate) => candidate.uuid === first.state["vmUuid"]);
  expect(vbds[0]?.vm).toBe(vm?.ref);
  await engine().destroy(first);
  await expectClean(disk);
});

test("VDI.forget fails during delete: the retried delete forgets the VDI", async () => {
  const disk = free(0);
  const created = await engine().create(owned("forget", { serial: disk.serial }));
  control().faults.add({
    method: "VDI.forget",
    count: 1,
    action: { error: { code: "INTERNAL_ERROR", params: ["injected"] } },
  });
  await expect(engine().destroy(created)).rejects.toThrow(/INTERNAL_ERROR/);
  await engine().destroy(created);
  await expectClean(disk);
});

test("a rename (an alias) is an update that moves the disk's pieces to the new owner", async () => {
  const disk = free(1);
  const before = await engine().create(owned("old-name", { serial: disk.serial }));
  const renamed = await engine().upWithPlan(before, owned("new-name", { serial: disk.serial }));
  expect(renamed.operation).toBe("update");
  expect(renamed.stored.state["vbdUuid"]).toBe(before.state["vbdUuid"]);
  expect(tagged().map((vbd) => vbd.otherConfig["xen-passthrough-owner"])).toEqual(["homelab/dev/new-name"]);
  await expect(engine().create(owned("old-name", { serial: disk.serial }))).rejects.toThrow(
    /belongs to PassthroughDisk homelab\/dev\/new-name/,
  );
  await engine().destroy(renamed.stored);
  await expectClean(disk);
});
