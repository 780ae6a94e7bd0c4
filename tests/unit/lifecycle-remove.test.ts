// delete without root: removeFrom against the XAPI simulator and a fake dom0. It removes what is
// ours, succeeds when pieces are already gone, and a failure leaves the rest for the retry.
import { renderRule } from "#provider/core/rule.js";
import { DOM0_SCRIPTS, REMOTE_SCRIPT_NAMES } from "#provider/dom0/scripts.js";
import { convergeFrom } from "#provider/lifecycle/converge.js";
import { anythingOurs } from "#provider/lifecycle/outputs.js";
import { removeFrom } from "#provider/lifecycle/remove.js";
import { diskInputs, look, useLifecycleHost } from "./lifecycle-fixture.js";

const host = useLifecycleHost();

afterEach(() => host().sim.control.faults.clear());

async function created(kernelName: string, serial: string, minor: number) {
  const { dom0, access, log } = host();
  dom0.addDisk(kernelName, serial, minor);
  const inputs = diskInputs(serial);
  const { state } = await convergeFrom(
    access,
    await look(access, inputs),
    inputs,
    { rollbackEarly: true },
    log,
  );
  return { inputs, state };
}

async function remove(serial: string) {
  const { access, log } = host();
  const inputs = diskInputs(serial);
  await removeFrom(access, await look(access, inputs), inputs, log);
}

const vdiAt = (kernelName: string) =>
  host()
    .sim.control.state()
    .vdis.find((vdi) => vdi.location === `/dev/xapi/block/${kernelName}`);

test("delete removes the VBD, the rule and the symlink, and forgets the VDI; a second delete does nothing", async () => {
  const { dom0, sim, access } = host();
  const { inputs, state } = await created("sdb", "DEL-1", 16);
  await remove("DEL-1");
  expect(sim.control.state().vbds.find((vbd) => vbd.uuid === state.vbdUuid)).toBeUndefined();
  expect(dom0.rules().has(renderRule(inputs.disk).path)).toBe(false);
  expect(dom0.symlinks.has("sdb")).toBe(false);
  expect(vdiAt("sdb")).toBeUndefined();
  expect(anythingOurs(await look(access, inputs))).toBe(false);
  const rounds = dom0.ran.length;
  await remove("DEL-1");
  expect(dom0.ran.slice(rounds)).toEqual(["inventory"]);
});

test("delete succeeds when the VBD was destroyed behind our back", async () => {
  const { dom0, sim } = host();
  const { inputs, state } = await created("sdc", "DEL-2", 32);
  sim.control.drift.destroyVbd(state.vbdUuid);
  await remove("DEL-2");
  expect(dom0.rules().has(renderRule(inputs.disk).path)).toBe(false);
  expect(vdiAt("sdc")).toBeUndefined();
});

test("VBD.destroy fails: delete fails before the rule goes, and the retry finishes the job", async () => {
  const { dom0, sim } = host();
  const { inputs, state } = await created("sdd", "DEL-3", 48);
  host().failCalls("VBD.destroy", "INTERNAL_ERROR", 1);
  await expect(remove("DEL-3")).rejects.toThrow(/INTERNAL_ERROR/);
  expect(dom0.rules().has(renderRule(inputs.disk).path)).toBe(true);
  await remove("DEL-3");
  expect(sim.control.state().vbds.find((vbd) => vbd.uuid === state.vbdUuid)).toBeUndefined();
  expect(dom0.rules().has(renderRule(inputs.disk).path)).toBe(false);
});

test("the lifecycle runs only the remote scripts dom0/scripts.ts lists (the fake dom0 refuses any other)", () => {
  const names = new Set(host().dom0.ran);
  expect([...names].sort()).toEqual([...REMOTE_SCRIPT_NAMES].sort());
  for (const name of REMOTE_SCRIPT_NAMES) expect(DOM0_SCRIPTS[name].startsWith("set -u\n")).toBe(true);
  // The boot repair is installed, not run over SSH: a bash script of its own, strict too.
  expect(DOM0_SCRIPTS.bootRepair).toMatch(
    /^#!\/bin\/bash\n# xen-passthrough boot-repair [0-9a-f]{16}\nset -u\n/,
  );
});

test("refresh keeps a resource whose rule, VBD and claim were removed by hand while its symlink and VDI stay", async () => {
  // Found by the chaos run: reporting it gone made the engine forget a symlink and a VDI that
  // then stayed on the host for good. Kept, the next `up` repairs it or `destroy` removes them.
  const { dom0, sim, access } = host();
  const { inputs, state } = await created("sdd", "DEL-3", 48);
  sim.control.drift.destroyVbd(state.vbdUuid);
  dom0.files.delete(renderRule(inputs.disk).path);
  dom0.claims.clear();
  expect(dom0.symlinks.has("sdd")).toBe(true);
  expect(anythingOurs(await look(access, inputs))).toBe(true);
  await remove("DEL-3");
  expect(dom0.symlinks.has("sdd")).toBe(false);
  expect(vdiAt("sdd")).toBeUndefined();
  expect(anythingOurs(await look(access, inputs))).toBe(false);
});
