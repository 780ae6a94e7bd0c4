// Host tier: whole-host reboots of the dom0 sandbox (real udevd, loop devices, systemd-style boot
// units) and XAPI's side of them, for both storage-manager behaviours. A reboot renames or swaps
// disks; /dev/xapi/block is rebuilt by coldplug while XAPI is down (so local-device-change cannot
// introduce anything), XAPI starts with a GC pass and the udev SR's boot scan (a vanished name's
// VDI is forgotten, a new name gets a new VDI, a name still there keeps its VDI), a boot unit runs before any VM auto-starts, and VMs start with whatever their VDI's path is now.
import type { RebootReport, Sandbox } from "xen-sandbox";
import { UNRECOGNISED_BUS_LABEL } from "xen-sandbox";

import { enableAutoPoweron, unusedLoopNames, linkRule, writeBootUnit, xapiOf } from "../support/host-reboot";
import type { XapiCall } from "../support/host-reboot";
import { useSandbox } from "../support/sandbox";
import { connectSsh } from "../support/ssh-xapi";
import { vbdRecord } from "../support/xapi-records";

const RULE_PATH = "/etc/udev/rules.d/65-xp-reboot-test.rules";
const GUESTS = ["media-server", "archive"];

type Records = Record<string, Record<string, unknown>>;

/**
 * Writes the rules, reloads udev, replays a change event for each disk and waits for the `links`
 * in /dev/xapi/block (trigger --settle may return once another sandbox's udevd has handled the
 * event: every udevd on the machine gets it).
 */
async function applyRules(sandbox: Sandbox, rules: string, links: readonly string[]): Promise<void> {
  const devices = sandbox.disks.map((disk) => `/sys/class/block/${disk.kernelName}`).join(" ");
  const result = await sandbox.exec(
    `cat > ${RULE_PATH} <<'EOF'\n${rules}EOF\nudevadm control --reload && udevadm trigger --action=change --settle ${devices}`,
  );
  expect(result).toMatchObject({ exitCode: 0 });
  const check = links.map((link) => `[ -e /dev/xapi/block/${link} ]`).join(" && ") || "true";
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if ((await sandbox.exec(check)).exitCode === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`udev made no /dev/xapi/block/{${links.join(",")}}`);
}

/** The VDI records at `location` once there are `count` of them (local-device-change runs after the event settles). */
async function vdisAt(
  call: XapiCall,
  location: string,
  count: number,
): Promise<Array<[string, Record<string, unknown>]>> {
  for (let attempt = 0; ; attempt += 1) {
    const here = Object.entries(await call<Records>("VDI.get_all_records")).filter(
      ([, vdi]) => vdi["location"] === location,
    );
    if (here.length === count || attempt >= 100) return here;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function vdiExists(call: XapiCall, vdi: string): Promise<boolean> {
  return vdi in (await call<Records>("VDI.get_all_records"));
}

async function vmNamed(call: XapiCall, name: string): Promise<{ ref: string; uuid: string }> {
  const [ref = ""] = await call<string[]>("VM.get_by_name_label", name);
  return { ref, uuid: await call<string>("VM.get_uuid", ref) };
}

/** The serial of the disk a dom0 path resolves to now, from udev's database. */
async function serialBehind(sandbox: Sandbox, path: string): Promise<string> {
  const { stdout } = await sandbox.exec(`udevadm info --query=property --name=$(readlink -f ${path})`);
  return /^ID_SERIAL_SHORT=(.*)$/m.exec(stdout)?.[1] ?? "";
}

/** What the boot unit recorded: guests running, the init cookie, /dev/xapi/block, XAPI's answer. */
const RECORDING_SCRIPT = `#!/bin/sh
# A boot unit gets systemd's PATH, without XAPI's bin directory.
PATH=/opt/xensource/bin:$PATH
echo "running guests: $(xe vm-list is-control-domain=false power-state=running --minimal)"
[ -e /run/xapi_init_complete.cookie ] && echo "init complete: yes"
echo "links: $(ls /dev/xapi/block | tr '\\n' ' ')"
echo "pbd attached: $(xe pbd-list params=currently-attached --minimal)"`;

describe("sm 3.2.3 (XCP-ng 8.3): a reboot that renames a kernel-named disk", () => {
  const sandbox = useSandbox({ disks: 2 });
  let call: XapiCall;
  let report: RebootReport;
  let oldName = "";
  let newName = "";
  let vdi = "";

  beforeAll(async () => {
    call = await xapiOf(sandbox());
    const disk = sandbox().disks[0]!;
    oldName = disk.kernelName;
    await applyRules(sandbox(), linkRule(disk.serial, "%k", true), [oldName]);
    [[vdi = ""] = []] = await vdisAt(call, `/dev/xapi/block/${oldName}`, 1);
    const archive = await vmNamed(call, "archive");
    await call("VBD.create", vbdRecord(archive.ref, vdi));
    await enableAutoPoweron(call, GUESTS);
    await writeBootUnit(sandbox(), "xp-record.service", RECORDING_SCRIPT);
    [newName = ""] = unusedLoopNames(1);
    report = await sandbox().reboot({ kernelNames: { [disk.serial]: newName } });
  });

  test("the disk comes back under the asked name; the others keep theirs", () => {
    const [renamed, other, inUse] = sandbox().describe().disks;
    expect(renamed?.kernelName).toBe(newName);
    expect(report.kernelNames).toEqual({
      [renamed!.serial]: newName,
      [other!.serial]: other!.kernelName,
      [inUse!.serial]: inUse!.kernelName,
    });
  });

  test("coldplug rebuilt /dev/xapi/block and udev's database from the rules, for the new name only", async () => {
    const disk = sandbox().disks[0]!;
    expect((await sandbox().exec("ls /dev/xapi/block")).stdout.trim().split("\n")).toEqual([newName]);
    expect(await serialBehind(sandbox(), `/dev/xapi/block/${newName}`)).toBe(disk.serial);
    expect((await sandbox().exec(`readlink -f ${disk.byId}`)).stdout.trim()).toBe(`/dev/${newName}`);
    // dom0's own disk is mounted again.
    const inUse = sandbox().disks.find((each) => each.inUse)!;
    expect((await sandbox().exec("cat /proc/mounts")).stdout).toContain(
      `/dev/${inUse.kernelName} /var/lib/dom0-data `,
    );
  });

  test("the boot scan forgot the old name's VDI and introduced one at the new name", async () => {
    // local-device-change ran during coldplug, when XAPI was not answering: the VDI at the new
    // name is the boot scan's (sm after_master_attach).
    expect(await vdiExists(call, vdi)).toBe(false);
    expect(await vdisAt(call, `/dev/xapi/block/${oldName}`, 0)).toEqual([]);
    expect(await vdisAt(call, `/dev/xapi/block/${newName}`, 1)).toHaveLength(1);
  });

  test("XAPI's initial GC pass ran before the scan (the VDI still existed, so its VBD stayed)", () => {
    expect(report.initialGc).toEqual({ destroyedVbds: [], emptiedVbds: [], destroyedVdis: [] });
  });

  test("the boot unit ran after init completed and before any guest started", () => {
    expect(report.bootUnits).toEqual([
      {
        unit: "xp-record.service",
        exitCode: 0,
        output: `running guests: \ninit complete: yes\nlinks: ${newName} \npbd attached: true,true,true\n`,
      },
    ]);
  });

  // XAPI's GC period (30 s, the simulator's default) starts again at XAPI's start: the auto-start,
  // seconds later, comes before its next pass.
  test("auto-start: media-server boots; archive fails, its VBD names a forgotten VDI (no GC pass yet)", async () => {
    const media = await vmNamed(call, "media-server");
    const archive = await vmNamed(call, "archive");
    expect(report.haltedVms).toEqual([media.uuid]);
    expect(report.autoStart).toEqual([
      { vm: media.uuid, started: true },
      { vm: archive.uuid, started: false, error: `HANDLE_INVALID [VDI, ${vdi}]` },
    ]);
    expect(await call("VM.get_power_state", archive.ref)).toBe("Halted");
    expect(await call("VM.get_power_state", media.ref)).toBe("Running");
  });
});

describe("sm 3.2.3: two kernel-named disks swap names", () => {
  const sandbox = useSandbox({ disks: 2 });
  let call: XapiCall;
  let report: RebootReport;

  test("both VMs auto-start, each silently on the other's disk; XAPI keeps both VDIs", async () => {
    call = await xapiOf(sandbox());
    const [a, b] = sandbox().disks as [Sandbox["disks"][0], Sandbox["disks"][0]];
    const [nameA, nameB] = [a.kernelName, b.kernelName];
    await applyRules(sandbox(), linkRule(a.serial, "%k", true) + linkRule(b.serial, "%k", true), [
      nameA,
      nameB,
    ]);
    const [[vdiA = ""] = []] = await vdisAt(call, `/dev/xapi/block/${nameA}`, 1);
    const [[vdiB = ""] = []] = await vdisAt(call, `/dev/xapi/block/${nameB}`, 1);
    const media = await vmNamed(call, "media-server");
    const archive = await vmNamed(call, "archive");
    for (const [vm, vdi] of [
      [media.ref, vdiA],
      [archive.ref, vdiB],
    ]) {
      await call("VBD.create", vbdRecord(vm, vdi));
    }
    await enableAutoPoweron(call, GUESTS);
    const identities = async () =>
      Object.entries(await call<Records>("VDI.get_all_records")).map(([ref, vdi]) => [
        ref,
        vdi["uuid"],
        vdi["location"],
      ]);
    const vdisBefore = await identities();

    report = await sandbox().reboot({ kernelNames: { [a.serial]: nameB, [b.serial]: nameA } });

    expect(report.kernelNames).toMatchObject({ [a.serial]: nameB, [b.serial]: nameA });
    expect(report.autoStart).toEqual([
      { vm: media.uuid, started: true },
      { vm: archive.uuid, started: true },
    ]);
    // media-server's VDI still says nameA, which is now disk B: the wrong disk, and XAPI cannot tell
    // (the boot scan matches by location only; it just re-reads each size).
    expect(await call("VDI.get_location", vdiA)).toBe(`/dev/xapi/block/${nameA}`);
    expect(await serialBehind(sandbox(), `/dev/xapi/block/${nameA}`)).toBe(b.serial);
    expect(await serialBehind(sandbox(), `/dev/xapi/block/${nameB}`)).toBe(a.serial);
    expect(await identities()).toEqual(vdisBefore);
  });
});

/** Sets up a stable-named link (xp-<serial>) for the first disk and scans it into a VDI. */
async function stableNamedVdi(sandbox: Sandbox, call: XapiCall): Promise<[string, Record<string, unknown>]> {
  const disk = sandbox.disks[0]!;
  await applyRules(sandbox, linkRule(disk.serial, `xp-${disk.serial}`, false), [`xp-${disk.serial}`]);
  const [sr] = await call<string[]>("SR.get_by_name_label", "Removable storage");
  await call("SR.scan", sr);
  const [found] = await vdisAt(call, `/dev/xapi/block/xp-${disk.serial}`, 1);
  if (found === undefined) throw new Error("the scan made no VDI for the stable-named link");
  return found;
}

for (const [smVersion, product] of [
  ["3.2.3", "8.3.0"],
  ["2.30.8", "8.2.1"],
] as const) {
  describe(`sm ${smVersion}: a stable-named link across a rename`, () => {
    const sandbox = useSandbox({ disks: 1, smVersion });
    let call: XapiCall;

    beforeAll(async () => {
      call = await xapiOf(sandbox());
    });

    test(`dom0's rpm and XAPI name the release: sm ${smVersion}, product ${product}`, async () => {
      expect(await sandbox().exec("rpm -q --qf '%{VERSION}\\n' sm")).toEqual({
        stdout: `${smVersion}\n`,
        stderr: "",
        exitCode: 0,
      });
      const [host] = await call<string[]>("host.get_all");
      expect(await call("host.get_software_version", host)).toMatchObject({ product_version: product });
    });

    test("the scan reads the link as this sm does, and the VM keeps its own disk across the rename", async () => {
      const disk = sandbox().disks[0]!;
      const [vdi, record] = await stableNamedVdi(sandbox(), call);
      expect({ size: record["virtual_size"], label: record["name_label"] }).toEqual(
        smVersion === "3.2.3"
          ? { size: disk.sizeBytes, label: "ata pci-0000:00:1f.2-ata-1" }
          : { size: 0, label: UNRECOGNISED_BUS_LABEL },
      );
      const archive = await vmNamed(call, "archive");
      await call("VBD.create", vbdRecord(archive.ref, vdi));
      await enableAutoPoweron(call, ["archive"]);
      const [newName = ""] = unusedLoopNames(1);

      const report = await sandbox().reboot({ kernelNames: { [disk.serial]: newName } });

      expect(report.autoStart).toEqual([{ vm: archive.uuid, started: true }]);
      expect(await call("VDI.get_uuid", vdi)).toBe(record["uuid"]);
      expect(await serialBehind(sandbox(), `/dev/xapi/block/xp-${disk.serial}`)).toBe(disk.serial);
      expect((await sandbox().exec(`readlink -f /dev/xapi/block/xp-${disk.serial}`)).stdout.trim()).toBe(
        `/dev/${newName}`,
      );
    });
  });
}

describe("boot units and refused reboots", () => {
  const sandbox = useSandbox({ disks: 1 });

  test("a reboot with bad kernel names is refused before anything changes", async () => {
    const before = sandbox().describe();
    const disk = before.disks[0]!;
    await expect(sandbox().reboot({ kernelNames: { NOPE: "loop1" } })).rejects.toMatchObject({
      code: "REBOOT_REFUSED",
      message: expect.stringContaining("no disk has serial NOPE") as unknown,
    });
    await expect(sandbox().reboot({ kernelNames: { [disk.serial]: "sdb" } })).rejects.toMatchObject({
      code: "REBOOT_REFUSED",
    });
    expect(sandbox().describe().disks).toEqual(before.disks);
    expect(sandbox().describe().vms).toEqual(before.vms);
  });

  test("a failing unit reports its exit code and output, and the boot goes on; a broken link is ignored", async () => {
    await writeBootUnit(
      sandbox(),
      "xp-a-fails.service",
      "#!/bin/sh\necho trying\n/opt/xensource/bin/xe vm-list uuid=not-a-uuid params=nope\nexit 3",
    );
    await writeBootUnit(sandbox(), "xp-b-ok.service", "#!/bin/sh\necho fine");
    // systemd's own PATH has no /opt/xensource/bin: a bare xe is not found.
    await writeBootUnit(sandbox(), "xp-c-bare-xe.service", "#!/bin/sh\nxe host-list --minimal");
    await sandbox().exec(
      "ln -sf /etc/systemd/system/gone.service /etc/systemd/system/multi-user.target.wants/gone.service && " +
        "printf '[Unit]\\nAfter=xapi-init-complete.target\\n[Service]\\nExecStart=/bin/false\\n' > /etc/systemd/system/xp-unordered.service && " +
        "ln -sf /etc/systemd/system/xp-unordered.service /etc/systemd/system/multi-user.target.wants/xp-unordered.service",
    );
    const call = await xapiOf(sandbox());
    await enableAutoPoweron(call, ["media-server"]);

    const report = await sandbox().reboot();

    expect(report.bootUnits.map(({ unit, exitCode }) => ({ unit, exitCode }))).toEqual([
      { unit: "xp-a-fails.service", exitCode: 3 },
      { unit: "xp-b-ok.service", exitCode: 0 },
      { unit: "xp-c-bare-xe.service", exitCode: 127 },
    ]);
    expect(report.bootUnits[0]?.output).toMatch(/^trying\n.*nope/s);
    expect(report.bootUnits[2]?.output).toMatch(/xe: .*not found/);
    expect(report.autoStart).toEqual([{ vm: (await vmNamed(call, "media-server")).uuid, started: true }]);
  });

  test("a reboot ends an established SSH connection (a session running); a new dial is served", async () => {
    const ssh = await connectSsh(sandbox().describe());
    // The reset reaches the client as ECONNRESET before "close" (events.once would reject on it).
    ssh.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => ssh.once("close", () => resolve()));
    await new Promise<void>((resolve, reject) =>
      ssh.exec("sleep 600", (error) => (error ? reject(error) : resolve())),
    );
    await sandbox().reboot();
    await closed;

    const again = await connectSsh(sandbox().describe());
    try {
      const answer = await new Promise<string>((resolve, reject) =>
        again.exec("echo back", (error, channel) => {
          if (error) return reject(error);
          let out = "";
          channel.on("data", (chunk: Buffer) => (out += chunk.toString()));
          channel.on("close", () => resolve(out.trim()));
        }),
      );
      expect(answer).toBe("back");
    } finally {
      again.end();
    }
  });
});
