// HVM guests and XAPI's GC window, without root: convergeFrom and read's outputs against the XAPI
// simulator (which refuses what real XAPI refuses: xapi_vbd.ml, xapi_vbd_helpers.ml) and a fake dom0.
import { RefusedError } from "#provider/core/errors.js";
import { renderRule } from "#provider/core/rule.js";
import { convergeFrom } from "#provider/lifecycle/converge.js";
import { stateFromView } from "#provider/lifecycle/outputs.js";
import { diskInputs, look, useLifecycleHost } from "./lifecycle-fixture.js";

const host = useLifecycleHost([
  { nameLabel: "no-tools", powerState: "Running", guest: "hvm-no-pv-drivers" },
  { nameLabel: "windows", powerState: "Running", guest: "hvm" },
]);

async function converge(serial: string, overrides: Record<string, unknown> = {}) {
  const { access, log } = host();
  const inputs = diskInputs(serial, overrides);
  return convergeFrom(access, await look(access, inputs), inputs, { rollbackEarly: true }, log);
}

const plugCalls = () =>
  host()
    .sim.control.trace.get()
    .calls.filter((call) => call.method === "VBD.plug").length;

test('mode "RO" on an HVM guest: refused before any change, with the reason', async () => {
  const { dom0 } = host();
  dom0.addDisk("sdb", "HVM-RO", 16);
  const attempt = converge("HVM-RO", { vm: { nameLabel: "windows" }, mode: "RO" });
  await expect(attempt).rejects.toBeInstanceOf(RefusedError);
  await expect(attempt).rejects.toThrow(/HVM guest.*DISK_VBD_MUST_BE_READWRITE_FOR_HVM/);
  expect(dom0.rules().has(renderRule({ serial: "HVM-RO" }).path)).toBe(false);
});

test("an HVM guest without PV drivers: VBD made, not plugged, said plainly; plugged once drivers appear", async () => {
  const { dom0, sim, logged } = host();
  dom0.addDisk("sdc", "NO-TOOLS", 32);
  sim.control.trace.reset();
  const { state } = await converge("NO-TOOLS", { vm: { nameLabel: "no-tools" } });
  expect(state).toMatchObject({
    currentlyAttached: false,
    observed: { vbdPresent: true, vmCanHotplug: false },
  });
  expect(state.vbdUuid).not.toBe("");
  const reason = /not plugged: the VM runs without PV drivers, so the disk attaches when the VM next starts/;
  expect(state.drift).toEqual([expect.stringMatching(reason)]);
  expect(logged.some((line) => reason.test(line))).toBe(true);
  // No plug was tried (XAPI would refuse VM_MISSING_PV_DRIVERS), and converging again tries none.
  await converge("NO-TOOLS", { vm: { nameLabel: "no-tools" } });
  expect(plugCalls()).toBe(0);
  // The guest tools come up: the next converge plugs the disk.
  sim.control.drift.setGuest("no-tools", "hvm");
  const after = await converge("NO-TOOLS", { vm: { nameLabel: "no-tools" } });
  expect(after.state).toMatchObject({ currentlyAttached: true, drift: [] });
  expect(plugCalls()).toBe(1);
});

test("inside the GC window: read reports the dead VBD, converge waits for the GC and replaces it", async () => {
  const { dom0, sim, access, logged } = host();
  dom0.addDisk("sdd", "GC-WINDOW", 48);
  const { state } = await converge("GC-WINDOW");
  const old = state.vbdUuid;
  // `xe vdi-forget` under a plugged VBD: the VBD stays, its VDI reference dead, until the GC runs.
  sim.control.drift.forgetVdi(state.vdiUuid);
  const inputs = diskInputs("GC-WINDOW");
  const read = stateFromView(await look(access, inputs), inputs, state.kernelName);
  expect(read.observed).toMatchObject({ vbdPresent: true, vbdOnCurrentVdi: false });
  expect(read.drift).toContain("the VBD refers to a VDI that is gone");

  const converging = converge("GC-WINDOW");
  // The GC runs once the provider waits for it (as XAPI's timer would, within 30 s).
  while (!logged.some((line) => line.includes(`VBD ${old} is plugged but its VDI is gone`)))
    await new Promise((resolve) => setTimeout(resolve, 50));
  sim.control.gc.run();
  const replaced = await converging;
  expect(replaced.state).toMatchObject({ currentlyAttached: true, drift: [] });
  expect(replaced.state.vbdUuid).not.toBe(old);
  const ours = sim.control.state().vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] === replaced.id);
  expect(ours).toEqual([expect.objectContaining({ uuid: replaced.state.vbdUuid, currentlyAttached: true })]);
});

test("a vanished device (gone from dom0, its VDI record left): refused naming the host, nothing changed", async () => {
  const { dom0, sim } = host();
  dom0.addDisk("sde", "VANISHED", 64);
  const { state } = await converge("VANISHED", { attach: false });
  dom0.disks.splice(
    dom0.disks.findIndex((disk) => disk.serial === "VANISHED"),
    1,
  );
  const before = sim.control.state();
  const attempt = converge("VANISHED");
  await expect(attempt).rejects.toMatchObject({ code: "DISK_NOT_FOUND" });
  await expect(attempt).rejects.toThrow(
    new RegExp(`the disk serial VANISHED is not present on host "[^"]+" \\(${sim.host.uuid}\\)`),
  );
  expect(before.vdis.some((vdi) => vdi.uuid === state.vdiUuid)).toBe(true);
  expect(sim.control.state().vbds).toEqual(before.vbds);
});
