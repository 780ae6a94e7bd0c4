// XAPI's database GC (xen-api db_gc.ml, db_gc_util.ml): on its own timer, 30 s by default; between
// a VDI.forget and the next pass, the VM's VBDs keep their dead VDI ref.
import { DEFAULT_GC_INTERVAL_MS, startXapiSimulator } from "xen-sandbox";
import { eventually, jsonFailure, jsonResult, login, vbdRecord } from "./xapi-fixture";

const GiB = 1024 ** 3;

async function withSimulator(
  gcIntervalMs: number | undefined,
  body: (sim: Awaited<ReturnType<typeof startXapiSimulator>>, session: string) => Promise<void>,
) {
  const sim = await startXapiSimulator(gcIntervalMs === undefined ? {} : { gcIntervalMs });
  try {
    await body(sim, await login(sim));
  } finally {
    await sim.stop();
  }
}

/** A Running guest's plugged passthrough disk, then forgotten as local-device-change does. */
async function forgottenDisk(sim: Awaited<ReturnType<typeof startXapiSimulator>>, session: string) {
  const call = <T = unknown>(method: string, ...args: unknown[]) =>
    jsonResult<T>({ sim }, method, [session, ...args]);
  const [media] = await call<string[]>("VM.get_by_name_label", "media-server");
  const [removable] = await call<string[]>("SR.get_by_name_label", "Removable storage");
  sim.control.devices.add({ name: "sdb", sizeBytes: GiB });
  await call("SR.scan", removable);
  const [vdi] = await call<string[]>("SR.get_VDIs", removable);
  const vbd = await call<string>("VBD.create", vbdRecord(media, vdi));
  await call("VBD.plug", vbd);
  await call("VBD.unplug_force", vbd);
  await call("VDI.forget", vdi);
  return { call, media: media as string, vdi: vdi as string, vbd };
}

test("the GC period is XAPI's 30 s unless set", async () => {
  expect(DEFAULT_GC_INTERVAL_MS).toBe(30_000);
  await withSimulator(undefined, async (sim, session) => {
    // The default pass has not run yet: what the database holds is still all there.
    expect(await jsonResult<string[]>({ sim }, "VBD.get_all", [session])).toHaveLength(2);
    expect(sim.control.gc.intervalMs()).toBe(30_000);
    sim.control.gc.setIntervalMs(0);
    expect(sim.control.gc.intervalMs()).toBe(0);
    expect(() => sim.control.gc.setIntervalMs(-5)).toThrow(/>= 0/);
  });
});

test("inside the window the VBD stays with its dead VDI ref; the timer's pass destroys it", async () => {
  await withSimulator(0, async (sim, session) => {
    const { call, media, vdi, vbd } = await forgottenDisk(sim, session);
    expect(await call("VBD.get_VDI", vbd)).toBe(vdi);
    expect(await call("VM.get_VBDs", media)).toContain(vbd);
    expect(await jsonFailure({ sim }, "VBD.plug", [session, vbd])).toEqual(["HANDLE_INVALID", "VDI", vdi]);
    expect(await jsonFailure({ sim }, "VDI.get_record", [session, vdi])).toEqual([
      "HANDLE_INVALID",
      "VDI",
      vdi,
    ]);
    // Now let the timer run it, as XAPI's master does every db_GC_TIMER seconds.
    sim.control.gc.setIntervalMs(20);
    await eventually(() => !sim.control.state().vbds.some((record) => record.ref === vbd), "the GC ran");
    expect(await call("VM.get_VBDs", media)).not.toContain(vbd);
  });
});

test("a CD VBD whose VDI is gone is emptied, not destroyed; a Disk VBD is destroyed", async () => {
  await withSimulator(0, async (sim, session) => {
    const call = <T = unknown>(method: string, ...args: unknown[]) =>
      jsonResult<T>({ sim }, method, [session, ...args]);
    const [archive] = await call<string[]>("VM.get_by_name_label", "archive");
    const [disk] = await call<string[]>("VM.get_VBDs", archive);
    const system = await call<string>("VBD.get_VDI", disk);
    const cd = await call<string>(
      "VBD.create",
      vbdRecord(archive, system, { userdevice: "3", mode: "RO", type: "CD" }),
    );
    await call("VDI.forget", system);
    const report = sim.control.gc.run();
    expect(report.emptiedVbds).toEqual([cd]);
    expect(await call("VBD.get_record", cd)).toMatchObject({ empty: true, VDI: "OpaqueRef:NULL" });
    expect(report.destroyedVbds).toEqual([disk]);
  });
});
