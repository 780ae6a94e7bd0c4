// One owner per disk, without root: the claim decided by dom0's udev round (the fake dom0 applies
// the manifest in order, as the script does), refusals before any change, and the migration of a
// state written before owners existed (no owner anywhere) by read, update and delete.
import { PartialResourceError, RefusedError } from "#provider/core/errors.js";
import { MIGRATING_FROM } from "#provider/core/owner.js";
import { renderRule } from "#provider/core/rule.js";
import { convergeFrom, previousOwnerOf } from "#provider/lifecycle/converge.js";
import { anythingOurs } from "#provider/lifecycle/outputs.js";
import { removeFrom } from "#provider/lifecycle/remove.js";
import { VBD_OWNER_KEY } from "#provider/core/owner.js";
import { viewOf } from "#provider/look/host-view.js";
import { diskInputs, look, useLifecycleHost } from "./lifecycle-fixture.js";

const host = useLifecycleHost();

const owned = (serial: string, owner: string, overrides: Record<string, unknown> = {}) =>
  diskInputs(serial, { owner, ...overrides });

async function create(serial: string, owner: string, overrides: Record<string, unknown> = {}) {
  const { access, log } = host();
  const inputs = owned(serial, owner, overrides);
  return convergeFrom(access, await look(access, inputs), inputs, { rollbackEarly: true }, log);
}

const vbdsOf = (kernelName: string) => {
  const state = host().sim.control.state();
  const vdi = state.vdis.find((v) => v.location === `/dev/xapi/block/${kernelName}`);
  return vdi === undefined ? [] : state.vbds.filter((b) => b.vdi === vdi.ref);
};

test("a second owner of one disk is refused before any change, naming the first", async () => {
  const { dom0 } = host();
  dom0.addDisk("sdb", "OWN-1", 16);
  const first = await create("OWN-1", "lab/dev/first");
  const ran = dom0.ran.length;
  const files = new Map(dom0.files);
  const refusal = create("OWN-1", "lab/dev/second", { vm: { nameLabel: "media-server" } });
  await expect(refusal).rejects.toThrow(RefusedError);
  await expect(refusal).rejects.toThrow(/serial OWN-1 belongs to PassthroughDisk lab\/dev\/first/);
  expect(dom0.ran.slice(ran)).toEqual(["inventory"]);
  expect(dom0.files).toEqual(files);
  expect(vbdsOf("sdb").map((vbd) => [vbd.uuid, vbd.otherConfig[VBD_OWNER_KEY]])).toEqual([
    [first.state.vbdUuid, "lab/dev/first"],
  ]);
  expect([...dom0.claims.values()]).toEqual(["lab/dev/first"]);
});

test("two claimants in one round: dom0 decides, the loser changes nothing", async () => {
  const { dom0, access, log } = host();
  dom0.addDisk("sdc", "OWN-2", 32);
  const bySerial = owned("OWN-2", "lab/dev/by-serial");
  const byKernel = diskInputs("unused", { owner: "lab/dev/by-kernel", disk: { kernelName: "sdc" } });
  // Both look before either claims, as concurrent creates do.
  const [serialView, kernelView] = await Promise.all([look(access, bySerial), look(access, byKernel)]);
  const rounds = dom0.ran.filter((name) => name === "udevRound").length;
  const outcomes = await Promise.allSettled([
    convergeFrom(access, serialView, bySerial, { rollbackEarly: true }, log),
    convergeFrom(access, kernelView, byKernel, { rollbackEarly: true }, log),
  ]);
  expect(dom0.ran.filter((name) => name === "udevRound").length - rounds).toBe(1);
  expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected"]);
  expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(
    /kernel name sdc belongs to PassthroughDisk lab\/dev\/by-serial/,
  );
  expect(dom0.rules().has(renderRule({ kernelName: "sdc" }).path)).toBe(false);
  expect(vbdsOf("sdc")).toHaveLength(1);
});

test("a state of the earlier version (no owner anywhere) is read, migrated by update, and deleted", async () => {
  const { dom0, access, log, sim } = host();
  dom0.addDisk("sdd", "OWN-3", 48);
  // What the earlier version left: the rule without an owner line, a VBD with the tag only, no claim.
  const legacyInputs = diskInputs("OWN-3");
  const made = await convergeFrom(
    access,
    await look(access, legacyInputs),
    legacyInputs,
    { rollbackEarly: true },
    log,
  );
  const rule = renderRule(legacyInputs.disk);
  dom0.files.set(rule.path, rule.text);
  dom0.claims.clear();
  const vbd = sim.control.state().vbds.find((b) => b.uuid === made.state.vbdUuid);
  if (vbd === undefined) throw new Error("no VBD made");
  await access.xapi.call("VBD.remove_from_other_config", vbd.ref, VBD_OWNER_KEY);

  // read: everything is still ours, under the owner id that is the old resource id.
  const read = await look(access, legacyInputs);
  expect(read.owner).toBe(made.id);
  expect(anythingOurs(read)).toBe(true);
  expect(read.vbd?.uuid).toBe(made.state.vbdUuid);
  expect(read.foreignOwner).toBeUndefined();

  // A new resource may not take it; the update of the old one (its state names no owner) migrates it.
  const withOwner = owned("OWN-3", "lab/dev/nas");
  await expect(create("OWN-3", "lab/dev/intruder")).rejects.toThrow(/belongs to PassthroughDisk/);
  const [inventory, snapshot] = await Promise.all([access.batches.inventory(), access.batches.snapshot()]);
  const before = viewOf(inventory, snapshot, withOwner, { owner: undefined });
  const updated = await convergeFrom(access, before, withOwner, { rollbackEarly: false }, log);
  expect(updated.id).toBe(made.id);
  expect(updated.state.vbdUuid).toBe(made.state.vbdUuid);
  expect(dom0.files.get(rule.path)).toBe(renderRule(legacyInputs.disk, "lab/dev/nas").text);
  expect([...dom0.claims.values()]).toEqual(["lab/dev/nas"]);
  expect(vbdsOf("sdd").map((b) => b.otherConfig[VBD_OWNER_KEY])).toEqual(["lab/dev/nas"]);
  await expect(create("OWN-3", "lab/dev/intruder")).rejects.toThrow(
    /belongs to PassthroughDisk lab\/dev\/nas/,
  );

  // delete: every piece goes, the claim too.
  await removeFrom(access, await look(access, withOwner), withOwner, log);
  expect(dom0.files.has(rule.path)).toBe(false);
  expect(dom0.claims.size).toBe(0);
  expect(vbdsOf("sdd")).toEqual([]);
});

test("a delete of an earlier version's state, never migrated, removes it all", async () => {
  const { dom0, access, log } = host();
  dom0.addDisk("sde", "OWN-4", 64);
  const inputs = diskInputs("OWN-4");
  await convergeFrom(access, await look(access, inputs), inputs, { rollbackEarly: true }, log);
  const rule = renderRule(inputs.disk);
  dom0.files.set(rule.path, rule.text);
  dom0.claims.clear();
  await removeFrom(access, await look(access, inputs), inputs, log);
  expect(dom0.files.has(rule.path)).toBe(false);
  expect(vbdsOf("sde")).toEqual([]);
  expect(anythingOurs(await look(access, inputs))).toBe(false);
});

test("VDI.forget fails during delete: the retry, with rule and symlink already gone, forgets the VDI", async () => {
  const { dom0, access, log, sim } = host();
  dom0.addDisk("sdf", "OWN-5", 80);
  await create("OWN-5", "lab/dev/forget");
  const inputs = owned("OWN-5", "lab/dev/forget");
  host().failCalls("VDI.forget", "INTERNAL_ERROR", 1);
  await expect(removeFrom(access, await look(access, inputs), inputs, log)).rejects.toThrow(/INTERNAL_ERROR/);
  expect(dom0.symlinks.has("sdf")).toBe(false);
  await removeFrom(access, await look(access, inputs), inputs, log);
  expect(sim.control.state().vdis.find((v) => v.location === "/dev/xapi/block/sdf")).toBeUndefined();
  sim.control.faults.clear();
});

test("a rename cut short between the claim and the VBD's re-tag: the state keeps the old owner until the next update", async () => {
  const { dom0, access, log } = host();
  dom0.addDisk("sdg", "OWN-6", 96);
  await create("OWN-6", "lab/dev/old-name");
  const renamed = owned("OWN-6", "lab/dev/new-name");
  const previous = { owner: "lab/dev/old-name" };
  host().failCalls("VBD.add_to_other_config", "INTERNAL_ERROR", 1);
  const failed = await convergeFrom(
    access,
    await look(access, renamed, previous),
    renamed,
    { rollbackEarly: false, previous },
    log,
  ).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failed).toBeInstanceOf(PartialResourceError);
  const partial = (failed as PartialResourceError).properties;
  expect(partial[MIGRATING_FROM]).toBe("lab/dev/old-name");
  expect([...dom0.claims.values()]).toContain("lab/dev/new-name");
  // Read, then the next update, take both owners' pieces as theirs and finish the move.
  const resumed = previousOwnerOf(partial);
  expect(anythingOurs(await look(access, renamed, resumed))).toBe(true);
  const done = await convergeFrom(
    access,
    await look(access, renamed, resumed),
    renamed,
    { rollbackEarly: false, previous: resumed },
    log,
  );
  expect(done.state.currentlyAttached).toBe(true);
  expect(vbdsOf("sdg").map((b) => b.otherConfig[VBD_OWNER_KEY])).toEqual(["lab/dev/new-name"]);
  expect(dom0.files.get(renderRule(renamed.disk).path)).toBe(
    renderRule(renamed.disk, "lab/dev/new-name").text,
  );
  await removeFrom(access, await look(access, renamed), renamed, log);
  expect(vbdsOf("sdg")).toEqual([]);
});
