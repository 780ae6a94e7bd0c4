// Disks that are not SATA, as dom0 (CentOS 7, systemd 219) sees them: a SAS disk with scsi_id's
// properties and an NVMe disk with none. The built CLI's `disks` suggests an identity for each,
// and a PassthroughDisk with it goes through the real dynamic-provider host cleanly.
import type { SandboxDisk } from "xen-sandbox";
import { useEngine, type Stored } from "../support/engine";
import { runCli, sshFlags } from "../support/cli-run";
import { connectionTo, useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 2, diskBuses: ["sas", "nvme-centos7"] });
const engine = useEngine();

interface JsonDisk {
  kernelName: string;
  serial: string | null;
  wwn: string | null;
  byIds: string[];
  identity: Record<string, string>;
  identityWarning: string | null;
}

function onBus(bus: SandboxDisk["bus"]): SandboxDisk {
  const disk = sandbox().disks.find((d) => d.bus === bus && !d.inUse);
  if (disk === undefined) throw new Error(`the sandbox has no free ${bus} disk`);
  return disk;
}

async function listJson(): Promise<JsonDisk[]> {
  const { code, stdout, stderr } = await runCli([...sshFlags("disks", sandbox().ssh), "--json"]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  return (JSON.parse(stdout) as { disks: JsonDisk[] }).disks;
}

async function listed(disk: SandboxDisk): Promise<JsonDisk> {
  const found = (await listJson()).find((d) => d.kernelName === disk.kernelName);
  if (found === undefined) throw new Error(`the CLI did not list ${disk.kernelName}`);
  return found;
}

async function udevProperties(disk: SandboxDisk): Promise<Record<string, string>> {
  const { stdout } = await sandbox().exec(`udevadm info --query=property --name=/dev/${disk.kernelName}`);
  return Object.fromEntries(
    stdout
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

const args = (disk: Record<string, string>) => ({
  connection: connectionTo(sandbox()),
  disk,
  vm: { nameLabel: "media-server" },
});
const state = () => sandbox().simulator.control.state();
const ourVbds = (stored: Stored) =>
  state().vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] === stored.id);

async function exists(path: string): Promise<boolean> {
  return (await sandbox().exec(`test -e ${path}`)).exitCode === 0;
}

/** Create, a refresh that finds no drift, delete that leaves no rule, link, VBD or VDI behind. */
async function roundTrip(disk: SandboxDisk, identity: Record<string, string>): Promise<void> {
  const created = await engine().create(args(identity));
  expect(created.state["kernelName"]).toBe(disk.kernelName);
  expect(created.state["currentlyAttached"]).toBe(true);
  expect(created.state["drift"]).toEqual([]);
  const again = await engine().refresh(created);
  if (again === undefined) throw new Error("refresh dropped the resource");
  expect(again.state["drift"]).toEqual([]);
  expect(again.state).toEqual(created.state);
  expect((await engine().preview(again, args(identity))).changes).toBe("none");

  await engine().destroy(again);
  expect(await exists(String(created.state["rulePath"]))).toBe(false);
  expect(await exists(String(created.state["symlinkPath"]))).toBe(false);
  expect(ourVbds(created)).toEqual([]);
  expect(state().vdis.filter((vdi) => vdi.location === created.state["symlinkPath"])).toEqual([]);
}

describe("a SAS disk", () => {
  const naa = () => onBus("sas").wwn.replace(/^0x/, "");

  test("udev sees scsi_id's properties: the NAA id as serial, the label serial in ID_SCSI_SERIAL", async () => {
    const disk = onBus("sas");
    expect(await udevProperties(disk)).toMatchObject({
      ID_BUS: "scsi",
      ID_SERIAL: `3${naa()}`,
      ID_SERIAL_SHORT: naa(),
      ID_SCSI_SERIAL: disk.serial,
      ID_WWN: disk.wwn,
      ID_WWN_WITH_EXTENSION: disk.wwn,
    });
    // scsi- from the fixture (as the stock rules make it for sd*), wwn- from the stock rules.
    const links = (await sandbox().exec(`udevadm info --query=symlink --name=/dev/${disk.kernelName}`))
      .stdout;
    expect(links).toContain(`disk/by-id/scsi-3${naa()}`);
    expect(links).toContain(`disk/by-id/wwn-${disk.wwn}`);
  });

  test("`disks` suggests its udev serial (the NAA id) and lists its scsi- and wwn- names", async () => {
    const disk = onBus("sas");
    expect(await listed(disk)).toMatchObject({
      serial: naa(),
      wwn: disk.wwn,
      identity: { serial: naa() },
      identityWarning: null,
      byIds: expect.arrayContaining([`scsi-3${naa()}`, `wwn-${disk.wwn}`]) as unknown,
    });
  });

  test("a PassthroughDisk with the suggested identity creates, refreshes without drift and deletes", async () => {
    const disk = onBus("sas");
    await roundTrip(disk, (await listed(disk)).identity);
  });

  test("so does one named by its WWN", async () => {
    await roundTrip(onBus("sas"), { wwn: onBus("sas").wwn });
  });

  test("its label serial is refused before any change, naming the identities to use", async () => {
    const disk = onBus("sas");
    const rulesBefore = (await sandbox().exec("ls /etc/udev/rules.d")).stdout;
    const vbdsBefore = state().vbds.length;
    await expect(engine().create(args({ serial: disk.serial }))).rejects.toThrow(
      new RegExp(
        `serial ${disk.serial} is the label serial .*ID_SCSI_SERIAL.*/dev/${disk.kernelName}.*` +
          `disk: \\{ wwn: "${disk.wwn}" \\} or disk: \\{ serial: "${naa()}" \\}.*pulumi-xen-passthrough disks`,
      ),
    );
    expect((await sandbox().exec("ls /etc/udev/rules.d")).stdout).toBe(rulesBefore);
    expect(state().vbds.length).toBe(vbdsBefore);
  });
});

describe("an NVMe disk on CentOS 7 (no NVMe lines in systemd 219's rules)", () => {
  test("udev gives it no serial, no WWN and no by-id link", async () => {
    const disk = onBus("nvme-centos7");
    const properties = await udevProperties(disk);
    for (const name of ["ID_SERIAL", "ID_SERIAL_SHORT", "ID_WWN", "ID_WWN_WITH_EXTENSION", "ID_BUS"]) {
      expect(properties[name]).toBeUndefined();
    }
    expect(properties["DEVLINKS"] ?? "").not.toContain("/dev/disk/by-id/");
  });

  test("`disks` can only suggest the kernel name, and warns that it may change", async () => {
    const disk = onBus("nvme-centos7");
    const row = await listed(disk);
    expect(row).toMatchObject({ serial: null, wwn: null, identity: { kernelName: disk.kernelName } });
    expect(row.byIds).toEqual([]);
    expect(row.identityWarning).toMatch(
      /no serial, WWN or \/dev\/disk\/by-id name.*can change at the next boot/,
    );
  });

  test("a PassthroughDisk with the suggested identity creates, refreshes without drift and deletes", async () => {
    const disk = onBus("nvme-centos7");
    await roundTrip(disk, (await listed(disk)).identity);
  });
});
