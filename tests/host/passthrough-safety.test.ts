// What PassthroughDisk refuses, and how it fails: before any change on the host, with errors
// that say what to do; faults at each XAPI step roll back or leave state the next up resumes.
import type { SandboxDisk } from "xen-sandbox";
import { HostCallError } from "xen-sandbox";
import { useEngine, type Stored } from "../support/engine";
import { connectionTo, useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 3 });
const engine = useEngine();

const connection = (overrides: Record<string, unknown> = {}) => connectionTo(sandbox(), overrides);

const disks = () => sandbox().disks;
const freeDisk = (index: number): SandboxDisk => {
  const disk = disks().filter((d) => !d.inUse)[index];
  if (disk === undefined) throw new Error(`no free disk #${index}`);
  return disk;
};
const args = (disk: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  connection: connection(),
  disk,
  vm: { nameLabel: "media-server" },
  ...extra,
});
const control = () => sandbox().simulator.control;
const state = () => control().state();
const ourVbds = (id: string) => state().vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] === id);
const READ_ONLY = /\.(get_[a-z_]+|login_with_password|logout|listMethods)$/;

async function rulesOnHost(): Promise<string[]> {
  const { stdout } = await sandbox().exec("ls /etc/udev/rules.d");
  return stdout.split("\n").filter((name) => name.includes("xen-passthrough"));
}

async function expectNothingChanged(run: () => Promise<unknown>, message: RegExp): Promise<void> {
  control().trace.reset();
  const rulesBefore = await rulesOnHost();
  const vbdsBefore = state().vbds.length;
  await expect(run()).rejects.toThrow(message);
  expect(await rulesOnHost()).toEqual(rulesBefore);
  expect(state().vbds.length).toBe(vbdsBefore);
  const writes = control()
    .trace.get()
    .calls.filter((call) => !READ_ONLY.test(call.method));
  expect(writes.map((call) => call.method)).toEqual([]);
}

describe("refused before any change", () => {
  test("the disk dom0 has mounted", async () => {
    const inUse = disks().find((d) => d.inUse);
    if (inUse === undefined) throw new Error("the sandbox has no in-use disk");
    await expectNothingChanged(
      () => engine().create(args({ serial: inUse.serial })),
      /mounted in dom0 on \//,
    );
  });

  test("the dom0 boot disk", async () => {
    await expectNothingChanged(() => engine().create(args({ kernelName: "vda" })), /dom0 boot disk/);
  });

  test("a disk that is not there, naming the disks that are", async () => {
    await expectNothingChanged(
      () => engine().create(args({ serial: "NOSUCHDISK" })),
      /no disk with serial NOSUCHDISK.*disks with a serial/,
    );
  });

  test("a VM that does not exist", async () => {
    const disk = freeDisk(0);
    await expectNothingChanged(
      () => engine().create({ ...args({ serial: disk.serial }), vm: { nameLabel: "no-such-vm" } }),
      /VM "no-such-vm" was not found/,
    );
  });

  test.each([
    ["serial", { serial: 'X"; rm -rf / #' }],
    ["serial", { serial: "$(reboot)" }],
    ["kernelName", { kernelName: "../../etc/passwd" }],
    ["byId", { byId: 'ata-X\nRUN+="/bin/sh"' }],
  ])("injection in disk.%s is refused by check, before the host is reached", async (field, disk) => {
    control().trace.reset();
    const sessions = sandbox().sshSessions();
    const { failures } = await engine().host.check({}, engine().inputs(args(disk)));
    expect(failures).toEqual([expect.objectContaining({ property: `disk.${field}` })]);
    expect(control().trace.get().calls).toEqual([]);
    expect(sandbox().sshSessions()).toBe(sessions);
  });
});

describe("host key verification", () => {
  const OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ1bm55IGtleSBmb3IgYSB3cm9uZyBob3N0IGtleSB0ZXN0";

  test("a wrong host key is refused, showing the key the server presented", async () => {
    const disk = freeDisk(0);
    const run = () =>
      engine().create({
        ...args({ serial: disk.serial }),
        connection: connection({ hostKey: OTHER_KEY, port: sandbox().ssh.port }),
      });
    await expect(run()).rejects.toThrow(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(await rulesOnHost()).toEqual([]);
  });

  test("a missing host key is refused unless the opt-out is explicit", async () => {
    const disk = freeDisk(0);
    const { hostKey: _omitted, ...withoutKey } = connection();
    await expect(
      engine().create({ ...args({ serial: disk.serial }), connection: withoutKey }),
    ).rejects.toThrow(/hostKey/);
    expect(await rulesOnHost()).toEqual([]);
  });
});

describe("XAPI over direct HTTPS", () => {
  const direct = (tlsFingerprint: string) => {
    const { xapi } = sandbox();
    return { url: xapi.url, username: xapi.username, password: xapi.password, tlsFingerprint };
  };

  test("works with the pinned certificate fingerprint", async () => {
    const disk = freeDisk(0);
    control().trace.reset();
    const created = await engine().create(
      args({ serial: disk.serial }, { xapi: direct(sandbox().xapi.tlsFingerprint) }),
    );
    expect(created.state["currentlyAttached"]).toBe(true);
    const transports = new Set(
      control()
        .trace.get()
        .calls.map((call) => call.transport),
    );
    expect(transports).toEqual(new Set(["tls"]));
    await engine().destroy(created);
    expect(ourVbds(created.id)).toEqual([]);
  });

  test("a wrong fingerprint is refused, showing the one seen", async () => {
    const disk = freeDisk(0);
    const wrong = "AA:".repeat(31) + "AA";
    await expect(engine().create(args({ serial: disk.serial }, { xapi: direct(wrong) }))).rejects.toThrow(
      new RegExp(sandbox().xapi.tlsFingerprint),
    );
    expect(await rulesOnHost()).toEqual([]);
  });
});

describe("a fault at each XAPI step", () => {
  const STEPS = [
    "host.get_all_records",
    "SR.get_all_records",
    "PBD.get_all_records",
    "VM.get_all_records",
    "VDI.get_all_records",
    "VBD.get_all_records",
    "SR.scan",
    "VBD.create",
    "VBD.get_record",
    "VBD.plug",
  ];

  test.each(STEPS)("%s: rolled back, or partial state that the next up converges from", async (method) => {
    const disk = freeDisk(1);
    const wanted = args({ serial: disk.serial });
    const fault = control().faults.add({
      method,
      action: { error: { code: "INTERNAL_ERROR", params: ["injected"] } },
      count: 1,
    });
    let stored: Stored;
    try {
      stored = await engine().create(wanted);
    } catch (error) {
      if (!(error instanceof HostCallError)) throw error;
      expect(error.details).toMatch(/INTERNAL_ERROR/);
      if (error.initFailure === undefined) {
        // Rolled back: nothing of this create is left.
        expect(await rulesOnHost()).toEqual([]);
        stored = await engine().create(wanted);
      } else {
        stored = await engine().up({ id: error.initFailure.id, state: error.initFailure.properties }, wanted);
      }
    }
    const hits = control()
      .faults.list()
      .find((rule) => rule.id === fault.id)?.hits;
    expect(hits).toBe(1);
    control().faults.clear();
    expect(stored.state["currentlyAttached"]).toBe(true);
    expect(ourVbds(stored.id)).toHaveLength(1);
    await engine().destroy(stored);
    expect(ourVbds(stored.id)).toEqual([]);
    expect(await rulesOnHost()).toEqual([]);
  });
});
