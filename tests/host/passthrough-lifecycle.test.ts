// PassthroughDisk end to end: the real dynamic-provider host (as `pulumi up` runs it) drives the
// provider against the dom0 sandbox (real sshd, udevd, loop disks) and the XAPI simulator.
import type { SandboxDisk } from "xen-sandbox";
import { useEngine, type Stored } from "../support/engine";
import { connectionTo, useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 3 });
const engine = useEngine();

const connection = () => connectionTo(sandbox());

function freeDisk(index: number): SandboxDisk {
  const disk = sandbox().disks.filter((d) => !d.inUse)[index];
  if (disk === undefined) throw new Error(`the sandbox has no free disk #${index}`);
  return disk;
}

function args(disk: SandboxDisk, vm: string, extra: Record<string, unknown> = {}) {
  return { connection: connection(), disk: { serial: disk.serial }, vm: { nameLabel: vm }, ...extra };
}

const state = () => sandbox().simulator.control.state();
const ourVbds = (stored: Stored) =>
  state().vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] === stored.id);

async function exists(path: string): Promise<boolean> {
  return (await sandbox().exec(`test -e ${path}`)).exitCode === 0;
}

function observed(stored: Stored): Record<string, unknown> {
  return stored.state["observed"] as Record<string, unknown>;
}

function refreshed(stored: Stored | undefined): Stored {
  if (stored === undefined) throw new Error("refresh dropped the resource");
  return stored;
}

describe("create, read and delete", () => {
  test("create attaches the disk to a Running VM; read sees no drift; delete leaves nothing", async () => {
    const disk = freeDisk(0);
    const created = await engine().create(args(disk, "media-server"));
    const s = created.state;
    expect(s["currentlyAttached"]).toBe(true);
    expect(s["kernelName"]).toBe(disk.kernelName);
    // Named after the serial where the host's udev SR resolves symlinks, else the kernel name.
    const stable = observed(created)["symlinkNaming"] === "stable";
    expect(s["symlinkPath"]).toBe(`/dev/xapi/block/${stable ? `xp-serial-${disk.serial}` : disk.kernelName}`);
    expect(s["device"]).toMatch(/^xvd[b-z]$/);
    expect(s["sizeBytes"]).toBe(disk.sizeBytes);
    expect(s["drift"]).toEqual([]);
    expect(await sandbox().readFile(String(s["rulePath"]))).toBe(s["ruleText"]);
    expect(await exists(String(s["symlinkPath"]))).toBe(true);

    const [vbd] = ourVbds(created);
    const vm = state().vms.find((v) => v.nameLabel === "media-server");
    expect(vbd).toMatchObject({ uuid: s["vbdUuid"], vm: vm?.ref, currentlyAttached: true });
    expect(state().vdis.find((vdi) => vdi.uuid === s["vdiUuid"])?.location).toBe(s["symlinkPath"]);

    const again = refreshed(await engine().refresh(created));
    expect(again.state["drift"]).toEqual([]);
    // create derives its outputs from its first look and what it did: a fresh look agrees.
    expect(again.state).toEqual(created.state);
    expect((await engine().preview(again, args(disk, "media-server"))).changes).toBe("none");

    await engine().destroy(again);
    expect(await exists(String(s["rulePath"]))).toBe(false);
    expect(await exists(String(s["symlinkPath"]))).toBe(false);
    expect(ourVbds(created)).toEqual([]);
    expect(state().vdis.filter((vdi) => vdi.location === s["symlinkPath"])).toEqual([]);
  });

  test("create leaves the VBD of a Halted VM unplugged, and that is no drift to repair", async () => {
    const disk = freeDisk(1);
    const created = await engine().create(args(disk, "archive"));
    expect(created.state["currentlyAttached"]).toBe(false);
    expect(ourVbds(created)).toMatchObject([{ currentlyAttached: false }]);
    const again = refreshed(await engine().refresh(created));
    expect((await engine().preview(again, args(disk, "archive"))).changes).toBe("none");
    await engine().destroy(again);
    expect(ourVbds(created)).toEqual([]);
  });

  test("re-running create over an existing passthrough converges without duplicating anything", async () => {
    const disk = freeDisk(1);
    const first = await engine().create(args(disk, "media-server"));
    const second = await engine().create(args(disk, "media-server"));
    expect(second.id).toBe(first.id);
    expect(ourVbds(first)).toHaveLength(1);
    const rules = await sandbox().exec("ls /etc/udev/rules.d | grep -c xen-passthrough");
    expect(rules.stdout.trim()).toBe("1");
    await engine().destroy(second);
  });
});

describe("preview", () => {
  test("check and diff make no XAPI call and open no SSH session", async () => {
    const disk = freeDisk(2);
    const created = await engine().create(args(disk, "media-server"));
    const control = sandbox().simulator.control;
    control.trace.reset();
    const sessionsBefore = sandbox().sshSessions();
    const diff = await engine().preview(created, args(disk, "media-server", { mode: "RO" }));
    expect(diff).toMatchObject({ changes: "some", replaces: [] });
    expect(control.trace.get().calls).toEqual([]);
    expect(sandbox().sshSessions()).toBe(sessionsBefore);
    await engine().destroy(created);
  });
});

describe("drift: read reports it, the next up repairs it", () => {
  let stored: Stored;
  const disk = () => freeDisk(2);
  const wanted = () => args(disk(), "media-server");

  beforeAll(async () => {
    stored = await engine().create(wanted());
  });
  afterAll(async () => {
    await engine().destroy(stored);
  });

  async function refreshExpectingDrift(pattern: RegExp): Promise<void> {
    stored = refreshed(await engine().refresh(stored));
    expect(stored.state["drift"]).toEqual(expect.arrayContaining([expect.stringMatching(pattern)]));
    expect((await engine().preview(stored, wanted())).changes).toBe("some");
  }

  async function upAndExpectInSync(): Promise<void> {
    stored = await engine().up(stored, wanted());
    const again = refreshed(await engine().refresh(stored));
    expect(again.state).toEqual(stored.state);
    expect(again.state["drift"]).toEqual([]);
    expect(again.state["currentlyAttached"]).toBe(true);
    stored = again;
  }

  test("a VBD unplugged behind Pulumi's back", async () => {
    sandbox().simulator.control.drift.unplugVbd(String(stored.state["vbdUuid"]));
    await refreshExpectingDrift(/unplugged/);
    expect(observed(stored)["vbdAttached"]).toBe(false);
    await upAndExpectInSync();
  });

  test("a VBD destroyed", async () => {
    const before = String(stored.state["vbdUuid"]);
    sandbox().simulator.control.drift.destroyVbd(before);
    await refreshExpectingDrift(/VBD was destroyed/);
    await upAndExpectInSync();
    expect(stored.state["vbdUuid"]).not.toBe(before);
    expect(ourVbds(stored)).toHaveLength(1);
  });

  test("the rule file deleted", async () => {
    await sandbox().exec(`rm ${String(stored.state["rulePath"])}`);
    await refreshExpectingDrift(/rule file was deleted/);
    await upAndExpectInSync();
    expect(await sandbox().readFile(String(stored.state["rulePath"]))).toBe(stored.state["ruleText"]);
  });

  test("the rule file edited", async () => {
    await sandbox().exec(`echo '# local edit' >> ${String(stored.state["rulePath"])}`);
    await refreshExpectingDrift(/rule file was edited/);
    await upAndExpectInSync();
    expect(await sandbox().readFile(String(stored.state["rulePath"]))).toBe(stored.state["ruleText"]);
  });

  test("the symlink gone", async () => {
    await sandbox().exec(`rm ${String(stored.state["symlinkPath"])}`);
    await refreshExpectingDrift(/symlink is gone/);
    await upAndExpectInSync();
    expect(await exists(String(stored.state["symlinkPath"]))).toBe(true);
  });

  test("the disk back under another kernel name after a reboot: the stable name follows it", async () => {
    // This sandbox's udev SR resolves symlinks (sm 3.2.3); the kernel-name case, with XAPI's GC
    // window, is in passthrough-names.test.ts on an sm 2.30.8 host.
    const before = String(stored.state["kernelName"]);
    const after = await sandbox().rebootDisk(disk().serial);
    expect(after).not.toBe(before);
    const again = refreshed(await engine().refresh(stored));
    expect(again.state["drift"]).toEqual([]);
    expect(again.state).toMatchObject({ vbdUuid: stored.state["vbdUuid"], kernelName: after });
    expect((await engine().preview(again, wanted())).changes).toBe("none");
    stored = again;
  });

  test("the VM halted: reported, nothing to repair until it runs again", async () => {
    const drift = sandbox().simulator.control.drift;
    drift.setPowerState("media-server", "Halted");
    stored = refreshed(await engine().refresh(stored));
    expect(observed(stored)["vmPowerState"]).toBe("Halted");
    expect(stored.state["drift"]).toEqual([expect.stringMatching(/VM is Halted/)]);
    expect((await engine().preview(stored, wanted())).changes).toBe("none");
    drift.setPowerState("media-server", "Running");
    await refreshExpectingDrift(/unplugged/);
    await upAndExpectInSync();
  });
});

describe("delete", () => {
  test("succeeds when the pieces are already gone", async () => {
    const disk = freeDisk(0);
    const created = await engine().create(args(disk, "media-server"));
    sandbox().simulator.control.drift.destroyVbd(String(created.state["vbdUuid"]));
    await sandbox().exec(`rm ${String(created.state["rulePath"])}`);
    await engine().destroy(created);
    expect(await exists(String(created.state["symlinkPath"]))).toBe(false);
    expect(ourVbds(created)).toEqual([]);
  });

  test("of a passthrough whose VM was destroyed: refresh reports it, up refuses, destroy cleans up", async () => {
    const disk = freeDisk(1);
    const created = await engine().create(args(disk, "archive"));
    sandbox().simulator.control.drift.destroyVm("archive");
    const again = refreshed(await engine().refresh(created));
    expect(again.state["drift"]).toEqual(expect.arrayContaining([expect.stringMatching(/VM was not found/)]));
    await expect(engine().up(again, args(disk, "archive"))).rejects.toThrow(/VM "archive" was not found/);
    await engine().destroy(again);
    expect(await exists(String(created.state["rulePath"]))).toBe(false);
    expect(await exists(String(created.state["symlinkPath"]))).toBe(false);
  });
});

describe("secrets and cost", () => {
  test("no secret reaches the outputs other than connection, or the provider's log", async () => {
    const disk = freeDisk(0);
    const created = await engine().create(args(disk, "media-server"));
    const refreshedState = refreshed(await engine().refresh(created));
    const privateKey = connection().privateKey;
    const keyBody = privateKey.split("\n")[1] ?? privateKey;
    for (const stored of [created, refreshedState]) {
      const { connection: _secret, ...rest } = stored.state;
      expect(JSON.stringify(rest)).not.toContain(keyBody);
    }
    expect(engine().host.output()).not.toContain(keyBody);
    await engine().destroy(refreshedState);
  });

  test("one create, read and delete: SSH sessions and XAPI calls (printed for the record)", async () => {
    const disk = freeDisk(0);
    const control = sandbox().simulator.control;
    const measure = async <T>(run: () => Promise<T>) => {
      control.trace.reset();
      const sessions = sandbox().sshSessions();
      const result = await run();
      return {
        result,
        sshExecs: sandbox().sshSessions() - sessions,
        xapiCalls: control.trace.get().calls.length,
      };
    };
    const create = await measure(() => engine().create(args(disk, "media-server")));
    const read = await measure(() => engine().refresh(create.result));
    const remove = await measure(() => engine().destroy(refreshed(read.result)));
    console.log(
      `calls per operation: create ${create.sshExecs} SSH execs + ${create.xapiCalls} XAPI calls; ` +
        `read ${read.sshExecs} + ${read.xapiCalls}; delete ${remove.sshExecs} + ${remove.xapiCalls}`,
    );
    // A read is one SSH probe and a fixed handful of XAPI calls, whatever the host holds.
    expect(read.sshExecs).toBe(1);
    expect(read.xapiCalls).toBeLessThanOrEqual(8);
    expect(create.sshExecs).toBeGreaterThan(0);
    expect(remove.sshExecs).toBeGreaterThan(0);
  });
});
