// planDiff: replace vs update vs nothing, from the stored state and the checked new inputs.
import { planDiff } from "#provider/core/diff-plan.js";
import { notesOf } from "#provider/core/drift.js";
import type { ObservedState } from "#provider/core/state.js";
import { UNKNOWN } from "#provider/core/unknown.js";
import { inputs, state, VM_UUID } from "./provider-plan-fixture.js";

const base = inputs();
const news = (overrides: Record<string, unknown>) => ({ ...inputs(overrides) }) as Record<string, unknown>;

describe("no change", () => {
  test("same inputs, state in sync", () => {
    expect(planDiff(state(base), { ...base })).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: true,
      reasons: [],
    });
  });

  test("a state written before setAffinity and the vm* observations diffs as in sync", () => {
    const old: Record<string, unknown> = { ...state(base) };
    delete old["setAffinity"];
    const observed = { ...(old["observed"] as Record<string, unknown>) };
    for (const key of ["vmCanHotplug", "vmResidentOn", "vmOnDiskHost", "vmAffinityOnDiskHost"])
      delete observed[key];
    expect(planDiff({ ...old, observed }, { ...base })).toMatchObject({ changes: false, reasons: [] });
    expect(planDiff({ ...old, observed }, news({ setAffinity: true })).reasons).toEqual([
      "setAffinity: (unset) -> true",
    ]);
  });

  test("an HVM guest without PV drivers, or one on another host: reported, never planned", () => {
    const noDrivers = { vbdAttached: false, vmCanHotplug: false };
    const notes = notesOf({ ...(state(base)["observed"] as ObservedState), ...noDrivers }, base);
    expect(notes).toEqual([expect.stringMatching(/runs without PV drivers/)]);
    expect(planDiff(state(base, noDrivers, notes), { ...base }).changes).toBe(false);
    const elsewhere = { vmOnDiskHost: false, vmResidentOn: "h2" };
    const away = notesOf({ ...(state(base)["observed"] as ObservedState), ...elsewhere }, base);
    expect(away).toEqual([expect.stringMatching(/another host of the pool \(h2\)/)]);
    expect(planDiff(state(base, elsewhere, away), { ...base }).changes).toBe(false);
    // A repair recorded beside a note still makes an update, for the repair only.
    expect(planDiff(state(base, elsewhere, ["the VBD was unplugged", ...away]), { ...base }).reasons).toEqual(
      ["drift: the VBD was unplugged"],
    );
  });

  test("key order does not matter", () => {
    const reordered = Object.fromEntries(Object.entries(base).reverse());
    expect(planDiff(state(base), reordered).changes).toBe(false);
  });

  test("naming the same VM by its UUID instead of its name is not a replace", () => {
    const plan = planDiff(state(base), news({ vm: { uuid: VM_UUID } }));
    expect(plan.replaces).toEqual([]);
    expect(plan.changes).toBe(false);
  });

  test("a halted VM is reported by read but is nothing an update could repair", () => {
    const observed = { vmPowerState: "Halted", vbdAttached: false } as const;
    const notes = notesOf({ ...(state(base)["observed"] as ObservedState), ...observed }, base);
    expect(notes).toEqual(["the VM is Halted: the disk is plugged when the VM runs"]);
    expect(planDiff(state(base, observed, notes), { ...base }).changes).toBe(false);
  });
});

describe("replace (delete before replace)", () => {
  test.each([
    ["another host", { connection: { host: "xen2.lan", password: "old-password" } }, ["connection"]],
    [
      "another SSH port",
      { connection: { host: "xen1.lan", port: 2222, password: "old-password" } },
      ["connection"],
    ],
    ["another disk", { disk: { serial: "OTHER" } }, ["disk"]],
    ["the disk named another way", { disk: { kernelName: "sdb" } }, ["disk"]],
    ["another VM", { vm: { nameLabel: "web" } }, ["vm"]],
    ["another VM by UUID", { vm: { uuid: "ffffffff-4e5f-6a7b-8c9d-0e1f2a3b4c5d" } }, ["vm"]],
  ])("%s", (_what, overrides, replaces) => {
    const plan = planDiff(state(base), news(overrides));
    expect(plan).toMatchObject({ changes: true, replaces, deleteBeforeReplace: true });
  });

  test("unknown identities in a preview count as a replace", () => {
    const plan = planDiff(state(base), {
      ...base,
      connection: UNKNOWN,
      disk: { serial: UNKNOWN },
      vm: UNKNOWN,
    });
    expect(plan.replaces).toEqual(["connection", "disk", "vm"]);
  });
});

describe("update", () => {
  test.each([
    ["mode", { mode: "RO" }, 'mode: "RW" -> "RO"'],
    ["userdevice", { userdevice: "3" }, 'userdevice: "autodetect" -> "3"'],
    ["bootable", { bootable: true }, "bootable: false -> true"],
    ["attach", { attach: false }, "attach: true -> false"],
    ["adopt", { adopt: true }, "adopt: false -> true"],
    ["symlinkTimeoutSeconds", { symlinkTimeoutSeconds: 90 }, "symlinkTimeoutSeconds: 60 -> 90"],
  ])("%s changed", (_key, overrides, reason) => {
    const plan = planDiff(state(base), news(overrides));
    expect(plan).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true, reasons: [reason] });
  });

  test("new credentials alone are an update (so the state keeps working ones), shown without their value", () => {
    const plan = planDiff(state(base), news({ connection: { host: "xen1.lan", password: "new-password" } }));
    expect(plan).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
      reasons: ["connection: changed"],
    });
    expect(JSON.stringify(plan)).not.toContain("password");
  });

  test("adding direct XAPI settings is an update, shown without their value", () => {
    const plan = planDiff(state(base), news({ xapi: { url: "https://m", password: "xapi-secret" } }));
    expect(plan.reasons).toEqual(["xapi: changed"]);
    expect(plan.replaces).toEqual([]);
  });

  test("unknown values elsewhere count as a change", () => {
    expect(planDiff(state(base), { ...base, mode: UNKNOWN })).toMatchObject({ changes: true, replaces: [] });
  });
});

describe("drift recorded by read makes an update", () => {
  test.each([
    ["rule deleted", { ruleStatus: "missing" }, "the udev rule file was deleted"],
    ["rule edited", { ruleStatus: "edited" }, "the udev rule file was edited"],
    ["symlink gone", { symlinkPresent: false }, "the /dev/xapi/block symlink is gone"],
    ["VDI gone", { vdiPresent: false }, "the udev SR has no VDI for the disk"],
    ["VBD destroyed", { vbdPresent: false, vbdAttached: false }, "the VBD was destroyed"],
    ["VBD unplugged", { vbdAttached: false }, "the VBD was unplugged"],
    ["VBD mode changed", { vbdMode: "RO" }, "the VBD has mode RO (wanted RW)"],
    ["VBD made bootable", { vbdBootable: true }, "the VBD has bootable true (wanted false)"],
    [
      "kernel rename after reboot",
      { kernelName: "sdc", vbdOnCurrentVdi: false },
      "the disk came back as sdc (it was sdb)",
    ],
  ] as const)("%s", (_what, observed, message) => {
    const plan = planDiff(state(base, observed, [message]), { ...base });
    expect(plan.changes).toBe(true);
    expect(plan.replaces).toEqual([]);
    expect(plan.reasons).toContain(`drift: ${message}`);
  });

  test("a state without observations (e.g. from a failed create) plans no drift", () => {
    const { observed: _observed, ...bare } = state(base);
    expect(planDiff(bare, { ...base }).changes).toBe(false);
  });
});
