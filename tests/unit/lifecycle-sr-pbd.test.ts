// The udev SR's PBD on the disk's host: XAPI scans an SR only through a plugged PBD (xen-api
// message_forwarding.ml choose_pbd_for_sr), so the provider picks the plugged one and refuses,
// before any change, when the host's only one is unplugged.
import { RefusedError } from "#provider/core/errors.js";
import { renderRule } from "#provider/core/rule.js";
import { convergeFrom } from "#provider/lifecycle/converge.js";
import { diskInputs, look, useLifecycleHost } from "./lifecycle-fixture.js";

const host = useLifecycleHost();

test("the host's only udev SR unplugged: refused before any change, naming the PBD to plug", async () => {
  const { dom0, sim, access, log } = host();
  dom0.addDisk("sdb", "SR-UNPLUGGED", 16);
  const [sr = ""] = await access.xapi.call<string[]>("SR.get_by_name_label", "Removable storage");
  const [pbd = ""] = await access.xapi.call<string[]>("SR.get_PBDs", sr);
  const pbdUuid = await access.xapi.call<string>("PBD.get_uuid", pbd);
  sim.control.drift.setPbdAttached(pbd, false);
  sim.control.trace.reset();
  try {
    const inputs = diskInputs("SR-UNPLUGGED");
    const attempt = convergeFrom(access, await look(access, inputs), inputs, { rollbackEarly: true }, log);
    await expect(attempt).rejects.toBeInstanceOf(RefusedError);
    await expect(attempt).rejects.toMatchObject({
      code: "REMOVABLE_STORAGE_SR_UNPLUGGED",
      params: { pbd: pbdUuid },
    });
    await expect(attempt).rejects.toThrow(`xe pbd-plug uuid=${pbdUuid}`);
    expect(dom0.rules().has(renderRule({ serial: "SR-UNPLUGGED" }).path)).toBe(false);
    const calls = sim.control.trace.get().calls.map((call) => call.method);
    expect(
      calls.filter((method) => /^(SR\.scan|VDI\.(introduce|forget|set_)|VBD\.(create|plug))/.test(method)),
    ).toEqual([]);
  } finally {
    sim.control.drift.setPbdAttached(pbd, true);
  }

  // Plugged again, the same inputs converge.
  const inputs = diskInputs("SR-UNPLUGGED");
  const { state } = await convergeFrom(
    access,
    await look(access, inputs),
    inputs,
    { rollbackEarly: true },
    log,
  );
  expect(state).toMatchObject({ currentlyAttached: true });
});
