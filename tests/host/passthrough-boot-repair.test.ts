// Host tier: the boot repair on a host whose storage manager does not resolve symlinks (sm
// 2.30.8, XCP-ng 8.2), through the real dynamic-provider host and whole-host reboots of the
// sandbox (real udevd coldplug, boot units between xapi's init and the VMs' auto-start). Two
// passthroughs to two auto_poweron VMs: reboots that rename a disk (XAPI's boot scan forgets the
// old name's VDI; the database GC destroys the VBD before or after the repair runs), one that
// swaps the two disks' kernel names, one where xe fails during the repair; then the last destroy
// removes it.
// No provider call happens between a reboot and the checks of where each VM's disk is.
import { DEFAULT_GC_INTERVAL_MS } from "xen-sandbox";
import type { RebootReport, Sandbox, SandboxDisk } from "xen-sandbox";
import { useEngine, type Stored } from "../support/engine";
import { enableAutoPoweron, unusedLoopNames, writeBootUnit, xapiOf } from "../support/host-reboot";
import { connectionTo, useSandbox } from "../support/sandbox";

const UNIT = "/etc/systemd/system/xen-passthrough-boot-repair.service";
const WANTS = "/etc/systemd/system/multi-user.target.wants/xen-passthrough-boot-repair.service";
const SCRIPT = "/opt/xen-passthrough/boot-repair";
const RECORDS = "/etc/xen-passthrough/boot-repair";
const GUESTS = ["media-server", "archive"] as const;

const engine = useEngine();

/** What each resource is: its disk, its VM, its inputs. */
interface Passthrough {
  readonly disk: SandboxDisk;
  readonly vm: (typeof GUESTS)[number];
  readonly args: Record<string, unknown>;
  stored: Stored;
}

async function exists(sandbox: Sandbox, path: string): Promise<boolean> {
  return (await sandbox.exec(`[ -e ${path} ] || [ -L ${path} ]`)).exitCode === 0;
}

/** The serial of the disk a dom0 path resolves to now ("" when it resolves to none). */
async function serialBehind(sandbox: Sandbox, path: string): Promise<string> {
  const { stdout } = await sandbox.exec(
    `udevadm info --query=property --name=$(readlink -f ${path}) 2>/dev/null`,
  );
  return /^ID_SERIAL_SHORT=(.*)$/m.exec(stdout)?.[1] ?? "";
}

/** For each tagged VBD: its VM's name and the serial of the disk its VDI's location holds now. */
async function disksOfTaggedVbds(sandbox: Sandbox): Promise<[string, string][]> {
  const state = sandbox.simulator.control.state();
  const found: [string, string][] = [];
  for (const vbd of state.vbds.filter(
    (candidate) => candidate.otherConfig["xen-passthrough"] !== undefined,
  )) {
    const vm = state.vms.find((candidate) => candidate.ref === vbd.vm)?.nameLabel ?? "?";
    const location = state.vdis.find((vdi) => vdi.ref === vbd.vdi)?.location ?? "";
    found.push([vm, location === "" ? "" : await serialBehind(sandbox, location)]);
  }
  return found.sort();
}

function repairRun(report: RebootReport) {
  return report.bootUnits.find((run) => run.unit === "xen-passthrough-boot-repair.service");
}

describe("sm 2.30.8 (XCP-ng 8.2): the boot repair keeps each VM on its own disk", () => {
  const sandbox = useSandbox({ disks: 2, smVersion: "2.30.8" });
  const control = () => sandbox().simulator.control;
  let passthroughs: Passthrough[] = [];
  const expected = () => passthroughs.map((p): [string, string] => [p.vm, p.disk.serial]).sort();
  const refreshAll = async () =>
    Promise.all(passthroughs.map(async (p) => (await engine().refresh(p.stored)) ?? p.stored));

  afterEach(() => control().faults.clear());

  test("creating two passthroughs installs the unit, enabled, the script and one record each", async () => {
    const [a, b] = sandbox().disks.filter((disk) => !disk.inUse) as [SandboxDisk, SandboxDisk];
    const pairs: [SandboxDisk, (typeof GUESTS)[number]][] = [
      [a, "media-server"],
      [b, "archive"],
    ];
    passthroughs = pairs.map(([disk, vm]) => {
      const args = {
        connection: connectionTo(sandbox()),
        disk: { serial: disk.serial },
        vm: { nameLabel: vm },
        owner: `homelab/dev/${vm}`,
      };
      return { disk, vm, args, stored: undefined as unknown as Stored };
    });
    for (const p of passthroughs) p.stored = await engine().create(p.args);
    await enableAutoPoweron(await xapiOf(sandbox()), GUESTS);

    expect(await sandbox().readFile(UNIT)).toContain(`ExecStart=${SCRIPT}`);
    expect((await sandbox().exec(`readlink ${WANTS}`)).stdout.trim()).toBe(UNIT);
    expect((await sandbox().exec(`[ -x ${SCRIPT} ]`)).exitCode).toBe(0);
    expect((await sandbox().exec(`ls ${RECORDS}`)).stdout.trim().split("\n")).toHaveLength(2);
    for (const p of passthroughs) {
      expect(p.stored.state["observed"]).toMatchObject({ bootRepair: "ok", bootRepairFailure: "" });
      expect(p.stored.state["drift"]).toEqual(
        expect.not.arrayContaining([expect.stringMatching(/boot repair/)]),
      );
    }
    expect(await disksOfTaggedVbds(sandbox())).toEqual(expected());
  });

  test("a reboot that renames a disk: the repair moves its VBD, both VMs auto-start with their own disks", async () => {
    const [renamed] = passthroughs as [Passthrough];
    const [newName] = unusedLoopNames(1) as [string];
    const report = await sandbox().reboot({ kernelNames: { [renamed.disk.serial]: newName } });

    expect(repairRun(report)).toMatchObject({ exitCode: 0 });
    expect(repairRun(report)?.output).toMatch(/re-created VBD .* on \/dev\/xapi\/block\//);
    expect(report.autoStart.map((start) => start.started)).toEqual([true, true]);
    expect(await disksOfTaggedVbds(sandbox())).toEqual(expected());
    expect(await sandbox().readFile("/var/log/xen-passthrough-boot-repair.log")).toContain(
      repairRun(report)?.output.trim().split("\n")[0] ?? "-",
    );

    await refreshAndRecord(renamed, newName);
  });

  /** Reboots renaming the second passthrough's disk; checks the VMs, the disks and refresh. */
  async function rebootRenamingOne(): Promise<{ report: RebootReport; newName: string }> {
    const renamed = passthroughs[1] as Passthrough;
    const [newName] = unusedLoopNames(1) as [string];
    const report = await sandbox().reboot({ kernelNames: { [renamed.disk.serial]: newName } });
    expect(repairRun(report)).toMatchObject({ exitCode: 0 });
    expect(repairRun(report)?.output).toMatch(new RegExp(`re-created VBD .* on /dev/xapi/block/${newName} `));
    expect(report.autoStart.map((start) => start.started)).toEqual([true, true]);
    expect(await disksOfTaggedVbds(sandbox())).toEqual(expected());
    return { report, newName };
  }

  /**
   * The rename the repair followed is a fact, not drift: refresh records the new kernel name and
   * reports nothing, and the next up plans no update (a CI job failing on drift stays green).
   */
  async function refreshAndRecord(renamed: Passthrough, newName: string): Promise<void> {
    const refreshed = await refreshAll();
    for (const stored of refreshed) {
      expect(stored.state["drift"]).toEqual([]);
      expect(stored.state["kernelName"]).toBe(
        (stored.state["observed"] as { kernelName: string }).kernelName,
      );
    }
    passthroughs.forEach((p, i) => (p.stored = refreshed[i] ?? p.stored));
    expect(renamed.stored.state["kernelName"]).toBe(newName);
    control().trace.reset();
    for (const p of passthroughs) {
      const { operation, stored } = await engine().upWithPlan(p.stored, p.args);
      expect(operation).toBe("same");
      p.stored = stored;
    }
    const changing = Object.keys(control().trace.get().countsByMethod).filter((method) =>
      /\.(create|destroy|plug|unplug|scan|introduce|forget|set_|add_|remove_)/.test(method),
    );
    expect(changing).toEqual([]);
    for (const stored of await refreshAll()) expect(stored.state["drift"]).toEqual([]);
  }

  test("a rename where XAPI's GC runs after the repair: the repair replaces the VBD left on the forgotten VDI", async () => {
    // XAPI's GC period (30 s) starts again at XAPI's start: its next pass comes after the repair,
    // which runs seconds later.
    const { report, newName } = await rebootRenamingOne();
    expect(repairRun(report)?.output).toMatch(/destroyed VBD .*: its VDI no longer holds its disk/);
    // The GC's pass now finds nothing of ours to destroy: the repaired VBDs name live VDIs.
    const ours = control()
      .state()
      .vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] !== undefined)
      .map((vbd) => vbd.ref);
    expect(
      control()
        .gc.run()
        .destroyedVbds.filter((vbd) => ours.includes(vbd)),
    ).toEqual([]);
    expect(await disksOfTaggedVbds(sandbox())).toEqual(expected());
    await refreshAndRecord(passthroughs[1] as Passthrough, newName);
  });

  test("a rename where XAPI's GC destroys the VBD before the repair runs: the repair re-creates it from its record", async () => {
    // A real host's GC timer (30 s) can fire between the boot scan and the repair; the simulator
    // has no control to run a pass in the middle of a reboot, so: a 50 ms timer, and a boot unit
    // ordered before the repair (by name) that waits long enough for a pass.
    await writeBootUnit(sandbox(), "00-xp-gc-window.service", "#!/bin/sh\nsleep 1");
    control().gc.setIntervalMs(50);
    let newName: string;
    try {
      const renaming = await rebootRenamingOne();
      const report = renaming.report;
      newName = renaming.newName;
      expect(repairRun(report)?.output).toMatch(/no VBD of .* is left .*: re-created from its record/);
      expect(repairRun(report)?.output).not.toMatch(/destroyed VBD/);
    } finally {
      control().gc.setIntervalMs(DEFAULT_GC_INTERVAL_MS);
      await sandbox().exec(
        "rm -f /etc/systemd/system/00-xp-gc-window.service /etc/systemd/system/multi-user.target.wants/00-xp-gc-window.service",
      );
    }
    await refreshAndRecord(passthroughs[1] as Passthrough, newName);
  });

  test("a reboot where the two disks swap kernel names: each VM still gets its own disk", async () => {
    const [a, b] = passthroughs.map((p) =>
      sandbox()
        .describe()
        .disks.find((d) => d.serial === p.disk.serial),
    ) as [SandboxDisk, SandboxDisk];
    const report = await sandbox().reboot({
      kernelNames: { [a.serial]: b.kernelName, [b.serial]: a.kernelName },
    });

    expect(report.kernelNames).toMatchObject({ [a.serial]: b.kernelName, [b.serial]: a.kernelName });
    expect(repairRun(report)).toMatchObject({ exitCode: 0 });
    expect(repairRun(report)?.output.match(/destroyed VBD/g)).toHaveLength(2);
    expect(report.autoStart.map((start) => start.started)).toEqual([true, true]);
    expect(await disksOfTaggedVbds(sandbox())).toEqual(expected());

    const refreshed = await refreshAll();
    // The repair already moved each VBD: the new kernel name is recorded, nothing is drift.
    for (const stored of refreshed) {
      expect(stored.state["drift"]).toEqual([]);
      expect(stored.state["kernelName"]).toBe(
        (stored.state["observed"] as { kernelName: string }).kernelName,
      );
    }
    passthroughs.forEach((p, i) => (p.stored = refreshed[i] ?? p.stored));
    for (const p of passthroughs) p.stored = await engine().up(p.stored, p.args);
  });

  test("xe fails during the repair: no VBD on a wrong disk, the VMs start without their disks, refresh says why, up converges", async () => {
    const [a, b] = passthroughs.map((p) =>
      sandbox()
        .describe()
        .disks.find((d) => d.serial === p.disk.serial),
    ) as [SandboxDisk, SandboxDisk];
    control().faults.add({
      method: "VBD.create",
      action: { error: { code: "INTERNAL_ERROR", params: ["boom"] } },
    });
    const report = await sandbox().reboot({
      kernelNames: { [a.serial]: b.kernelName, [b.serial]: a.kernelName },
    });
    control().faults.clear();

    expect(repairRun(report)).toMatchObject({ exitCode: 1 });
    expect(repairRun(report)?.output).toMatch(/FAILED: xe vbd-create/);
    // Both VMs start, without the disk rather than with the other's.
    expect(report.autoStart.map((start) => start.started)).toEqual([true, true]);
    expect(await disksOfTaggedVbds(sandbox())).toEqual([]);

    const refreshed = await refreshAll();
    for (const stored of refreshed) {
      expect(stored.state["drift"]).toEqual(
        expect.arrayContaining([
          "the VBD was destroyed",
          expect.stringMatching(
            /^the boot repair failed for this disk at the last boot: xe vbd-create failed/,
          ),
        ]),
      );
    }
    passthroughs.forEach((p, i) => (p.stored = refreshed[i] ?? p.stored));
    for (const p of passthroughs) p.stored = await engine().up(p.stored, p.args);
    expect(await disksOfTaggedVbds(sandbox())).toEqual(expected());
    for (const stored of await refreshAll()) expect(stored.state["drift"]).toEqual([]);
  });

  test("destroying the last passthrough removes the unit, its link, the script and the records", async () => {
    const [first, last] = passthroughs as [Passthrough, Passthrough];
    await engine().destroy(first.stored);
    expect(await exists(sandbox(), UNIT)).toBe(true);
    expect((await sandbox().exec(`ls ${RECORDS}`)).stdout.trim().split("\n")).toHaveLength(1);
    await engine().destroy(last.stored);
    for (const path of [UNIT, WANTS, SCRIPT]) expect(await exists(sandbox(), path)).toBe(false);
    expect((await sandbox().exec(`ls -A ${RECORDS}`)).stdout.trim()).toBe("");
  });
});

describe("sm 3.2.3 (XCP-ng 8.3): stable names need no boot repair", () => {
  const sandbox = useSandbox({ disks: 1 });

  test("a passthrough installs no unit, no script, no record", async () => {
    const [disk] = sandbox().disks.filter((d) => !d.inUse) as [SandboxDisk];
    const stored = await engine().create({
      connection: connectionTo(sandbox()),
      disk: { serial: disk.serial },
      vm: { nameLabel: "media-server" },
    });
    expect(stored.state["observed"]).toMatchObject({ bootRepair: "notNeeded" });
    for (const path of [UNIT, WANTS, SCRIPT, RECORDS]) expect(await exists(sandbox(), path)).toBe(false);
    await engine().destroy(stored);
  });
});
