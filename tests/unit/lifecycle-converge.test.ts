// create and update without root: convergeFrom against the XAPI simulator and a fake dom0. Each
// step's failure, the rollback of a create, partial state for what cannot be undone, and resume.
import { PartialResourceError, RollbackIncompleteError } from "#provider/core/errors.js";
import { renderRule } from "#provider/core/rule.js";
import { convergeFrom } from "#provider/lifecycle/converge.js";
import { DISABLED_SUFFIX } from "#provider/dom0/udev-round.js";
import { diskInputs, look, PV_GUEST, useLifecycleHost } from "./lifecycle-fixture.js";

const host = useLifecycleHost();

async function converge(serial: string, overrides: Record<string, unknown> = {}, rollbackEarly = true) {
  const { access, log } = host();
  const inputs = diskInputs(serial, overrides);
  return convergeFrom(access, await look(access, inputs), inputs, { rollbackEarly }, log);
}

/** What the simulator holds for a disk's symlink location. */
function xapiFor(kernelName: string) {
  const state = host().sim.control.state();
  const vdi = state.vdis.find((v) => v.location === `/dev/xapi/block/${kernelName}`);
  return { vdi, vbds: vdi === undefined ? [] : state.vbds.filter((b) => b.vdi === vdi.ref) };
}

afterEach(() => {
  const { dom0, sim } = host();
  dom0.udevIgnoresRules = false;
  dom0.roundsDie = false;
  sim.control.faults.clear();
});

test("create from nothing: rule, symlink, VDI, a plugged VBD; the outputs equal a fresh look", async () => {
  const { dom0, access } = host();
  dom0.addDisk("sdb", "NEW-1", 16);
  const { id, state } = await converge("NEW-1");
  const rule = renderRule({ serial: "NEW-1" }, id);
  expect(dom0.rules().get(rule.path)).toBe(rule.text);
  expect(dom0.symlinks.has("sdb")).toBe(true);
  const { vdi, vbds } = xapiFor("sdb");
  expect(vbds).toEqual([expect.objectContaining({ uuid: state.vbdUuid, currentlyAttached: true })]);
  expect(state).toMatchObject({ vdiUuid: vdi?.uuid, kernelName: "sdb", currentlyAttached: true, drift: [] });
  expect(id.startsWith(`${host().sim.host.uuid}:`)).toBe(true);
  // Converging again plans nothing on dom0 and finds the same state.
  const rounds = dom0.ran.filter((name) => name === "udevRound").length;
  const again = await converge("NEW-1");
  expect(again.state).toEqual(state);
  expect(dom0.ran.filter((name) => name === "udevRound").length).toBe(rounds);
  const inputs = diskInputs("NEW-1");
  const fresh = await look(access, inputs);
  expect(fresh.tag).toBe(id);
  expect(fresh.vbd?.uuid).toBe(state.vbdUuid);
});

test("the symlink never comes: the create is undone (no rule, no VDI) and the timeout is the error", async () => {
  const { dom0 } = host();
  dom0.addDisk("sdc", "TIMEOUT-1", 32);
  dom0.udevIgnoresRules = true;
  await expect(converge("TIMEOUT-1")).rejects.toThrow(
    /udev did not create \/dev\/xapi\/block\/sdc within 60 s/,
  );
  expect(dom0.rules().has(renderRule({ serial: "TIMEOUT-1" }).path)).toBe(false);
  expect(xapiFor("sdc").vdi).toBeUndefined();
});

test("adopt, then the symlink wait times out: the hand-made rule set aside is moved back", async () => {
  const { dom0 } = host();
  dom0.addDisk("sdd", "ADOPT-1", 48);
  const hand = "/etc/udev/rules.d/99-hand.rules";
  const text = 'KERNEL=="sdd", SYMLINK+="xapi/block/%k"\n';
  dom0.files.set(hand, text);
  dom0.udevIgnoresRules = true;
  await expect(converge("ADOPT-1", { adopt: true })).rejects.toThrow(/udev did not create/);
  expect(dom0.files.get(hand)).toBe(text);
  expect(dom0.files.has(`${hand}${DISABLED_SUFFIX}`)).toBe(false);
  expect(dom0.rules().has(renderRule({ serial: "ADOPT-1" }).path)).toBe(false);
  dom0.files.delete(hand);
});

test("VBD.create fails: the create is undone, the VDI the scan introduced is forgotten", async () => {
  const { dom0 } = host();
  dom0.addDisk("sde", "VBDFAIL-1", 64);
  host().failCalls("VBD.create", "INTERNAL_ERROR");
  await expect(converge("VBDFAIL-1")).rejects.toThrow(/INTERNAL_ERROR/);
  expect(dom0.rules().has(renderRule({ serial: "VBDFAIL-1" }).path)).toBe(false);
  expect(dom0.symlinks.has("sde")).toBe(false);
  expect(xapiFor("sde").vdi).toBeUndefined();
});

test("the SR scan fails: the create is undone", async () => {
  const { dom0 } = host();
  dom0.addDisk("sdf", "SCANFAIL-1", 80);
  host().failCalls("SR.scan", "SR_BACKEND_FAILURE_40", 1);
  await expect(converge("SCANFAIL-1")).rejects.toThrow(/SR_BACKEND_FAILURE_40/);
  expect(dom0.rules().has(renderRule({ serial: "SCANFAIL-1" }).path)).toBe(false);
  expect(xapiFor("sdf").vdi).toBeUndefined();
});

test("VBD.plug fails after the VBD exists: partial state is kept, and the next converge resumes", async () => {
  const { dom0 } = host();
  dom0.addDisk("sdg", "PLUGFAIL-1", 96);
  host().failCalls("VBD.plug", "INTERNAL_ERROR", 1);
  const failure = await converge("PLUGFAIL-1").catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(PartialResourceError);
  const partial = failure as PartialResourceError;
  expect(partial.message).toMatch(/INTERNAL_ERROR.*partly done/);
  expect(partial.properties["observed"]).toMatchObject({ vbdPresent: true, vbdAttached: false });
  expect(dom0.rules().has(renderRule({ serial: "PLUGFAIL-1" }).path)).toBe(true);
  const resumed = await converge("PLUGFAIL-1");
  expect(resumed.id).toBe(partial.id);
  expect(resumed.state).toMatchObject({
    vbdUuid: partial.properties["vbdUuid"],
    currentlyAttached: true,
    drift: [],
  });
});

test("update (no early rollback): a failure before the VBD keeps partial state instead of undoing", async () => {
  const { dom0 } = host();
  dom0.addDisk("sdh", "UPDFAIL-1", 112);
  dom0.udevIgnoresRules = true;
  const failure = await converge("UPDFAIL-1", {}, false).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(PartialResourceError);
  expect((failure as PartialResourceError).properties["observed"]).toMatchObject({
    ruleStatus: "ok",
    symlinkPresent: false,
    vbdPresent: false,
  });
  expect(dom0.rules().has(renderRule({ serial: "UPDFAIL-1" }).path)).toBe(true);
});

test("a udev round that dies, and a rollback that cannot run either: the leftovers are named", async () => {
  const { dom0 } = host();
  dom0.addDisk("sdi", "DIES-1", 128);
  dom0.roundsDie = true;
  const failure = await converge("DIES-1").catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(RollbackIncompleteError);
  const error = failure as RollbackIncompleteError;
  expect(error.message).toMatch(/the udev round did not finish \(exit status 255\).*stderr: bash: killed/);
  expect(error.leftovers).toEqual([
    expect.stringMatching(/^undo the rule changes: the udev round did not finish/),
  ]);
});

test("mode changes on a plugged VBD: it is unplugged, destroyed and created again, then plugged", async () => {
  dom0OfHost().addDisk("sdj", "MODE-1", 144);
  const pvGuest = { vm: { nameLabel: PV_GUEST.nameLabel } };
  const first = await converge("MODE-1", pvGuest);
  const second = await converge("MODE-1", { ...pvGuest, mode: "RO" }, false);
  expect(second.state.vbdUuid).not.toBe(first.state.vbdUuid);
  expect(second.state.observed).toMatchObject({ vbdMode: "RO", vbdAttached: true });
  expect(xapiFor("sdj").vbds.map((vbd) => vbd.uuid)).toEqual([second.state.vbdUuid]);
});

test("VBD.unplug fails during an update: partial state keeps the VBD", async () => {
  dom0OfHost().addDisk("sdk", "UNPLUG-1", 160);
  const first = await converge("UNPLUG-1");
  host().failCalls("VBD.unplug", "INTERNAL_ERROR", 1);
  const failure = await converge("UNPLUG-1", { attach: false }, false).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(PartialResourceError);
  expect((failure as PartialResourceError).properties["vbdUuid"]).toBe(first.state.vbdUuid);
  const resumed = await converge("UNPLUG-1", { attach: false }, false);
  expect(resumed.state.observed).toMatchObject({ vbdPresent: true, vbdAttached: false });
});

function dom0OfHost() {
  return host().dom0;
}

test("dom0's boot disk is refused before anything changes on the host", async () => {
  const { dom0 } = host();
  const ran = dom0.ran.length;
  const files = new Map(dom0.files);
  await expect(converge("BOOT-0")).rejects.toMatchObject({ code: "DISK_IN_USE_BY_DOM0" });
  expect(dom0.ran.slice(ran)).toEqual(["inventory"]);
  expect(dom0.files).toEqual(files);
});
