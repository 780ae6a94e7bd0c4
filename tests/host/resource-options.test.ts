// The resource options the README documents, where they touch this provider, through the real
// dynamic-provider host: moving a disk to another VM is one replace that deletes first; a
// resource the engine forgot (retainOnDelete, `pulumi state delete`) leaves the passthrough on the
// host, and declaring it again takes it back as it is (hand-made ones need adopt: true, see
// passthrough-adopt.test.ts): what stands in for `pulumi import`.
import { useEngine } from "../support/engine";
import { connectionTo, useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 1 });
const engine = useEngine();

function freeDisk() {
  const disk = sandbox().disks.find((d) => !d.inUse);
  if (disk === undefined) throw new Error("no free disk");
  return disk;
}

function vbdsOf(id: string) {
  return sandbox()
    .simulator.control.state()
    .vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] === id);
}

test("a disk moved to another VM under the same resource: one replace, the old VBD deleted first", async () => {
  const disk = freeDisk();
  const connection = connectionTo(sandbox());
  const onMedia = { connection, disk: { serial: disk.serial }, vm: { nameLabel: "media-server" } };
  const first = await engine().create(onMedia);
  const oldVbd = first.state["vbdUuid"];

  const moved = await engine().upWithPlan(first, { ...onMedia, vm: { nameLabel: "archive" } });
  expect(moved.operation).toBe("replace");
  expect(moved.diff).toMatchObject({ replaces: ["vm"], deleteBeforeReplace: true });
  const archive = sandbox().vms.find((vm) => vm.nameLabel === "archive");
  expect(moved.stored.state["vmUuid"]).toBe(archive?.uuid);
  const vbds = vbdsOf(moved.stored.id);
  expect(vbds.map((vbd) => vbd.uuid)).toEqual([moved.stored.state["vbdUuid"]]);
  expect(vbds[0]?.uuid).not.toBe(oldVbd);
  await engine().destroy(moved.stored);
  expect(vbdsOf(moved.stored.id)).toEqual([]);
});

test("forgotten by the engine, the passthrough stays; declared again, it is taken back as it is", async () => {
  const disk = freeDisk();
  const args = {
    connection: connectionTo(sandbox()),
    disk: { serial: disk.serial },
    vm: { nameLabel: "media-server" },
  };
  const retained = await engine().create(args);
  // retainOnDelete / `pulumi state delete`: the engine drops the resource and calls nothing.
  const kept = vbdsOf(retained.id);
  expect(kept.map((vbd) => [vbd.uuid, vbd.currentlyAttached])).toEqual([[retained.state["vbdUuid"], true]]);

  const again = await engine().create(args);
  expect(again.id).toBe(retained.id);
  expect(again.state["vbdUuid"]).toBe(retained.state["vbdUuid"]);
  expect((await engine().refresh(again))?.state["drift"]).toEqual([]);
  await engine().destroy(again);
  expect(vbdsOf(again.id)).toEqual([]);
});
