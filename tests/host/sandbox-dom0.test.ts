// Host tier: what dom0 looks like inside the sandbox: SATA-like loop disks with udev
// identities, the disk dom0 uses, the inventory, and the xe / libexec stand-ins.
import { existsSync } from "node:fs";
import { DEFAULT_USB_DEVICE } from "xen-sandbox";

import { useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 2 });

const dom0 = async (command: string): Promise<string> => {
  const result = await sandbox().exec(command);
  if (result.exitCode !== 0) throw new Error(`dom0: ${command} exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout.trim();
};

describe("disks", () => {
  test("two free disks and one in use, each with its own identity", () => {
    const disks = sandbox().disks;
    expect(disks.map((disk) => disk.inUse)).toEqual([false, false, true]);
    expect(new Set(disks.map((disk) => disk.serial)).size).toBe(3);
    for (const disk of disks) {
      expect(disk.wwn).toMatch(/^0x5000c500[0-9a-f]{8}$/);
      expect(disk.byId).toMatch(new RegExp(`^/dev/disk/by-id/ata-.+_${disk.serial}$`));
      expect(disk.kernelName).toMatch(/^loop\d+$/);
    }
  });

  test("udev knows them as ATA disks: by-id and wwn links to the loop device", async () => {
    for (const disk of sandbox().disks) {
      expect(await dom0(`readlink -f ${disk.byId}`)).toBe(`/dev/${disk.kernelName}`);
      expect(await dom0(`readlink -f /dev/disk/by-id/wwn-${disk.wwn}`)).toBe(`/dev/${disk.kernelName}`);
      const properties = await dom0(`udevadm info --query=property --name=/dev/${disk.kernelName}`);
      expect(properties).toContain("ID_BUS=ata");
      expect(properties).toContain(`ID_SERIAL_SHORT=${disk.serial}`);
      expect(properties).toContain(`ID_WWN=${disk.wwn}`);
      expect(await dom0(`blockdev --getsize64 /dev/${disk.kernelName}`)).toBe(String(disk.sizeBytes));
    }
  });

  test("the in-use disk is mounted in dom0, and check-device-sharing says so", async () => {
    const inUse = sandbox().disks.find((disk) => disk.inUse)!;
    const free = sandbox().disks.find((disk) => !disk.inUse)!;
    expect(await dom0(`findmnt -n -o SOURCE,FSTYPE /var/lib/dom0-data`)).toBe(
      `/dev/${inUse.kernelName} ext4`,
    );
    const sharing = await sandbox().exec(`/opt/xensource/libexec/check-device-sharing ${inUse.kernelName}`);
    expect(sharing).toMatchObject({ exitCode: 1, stdout: expect.stringContaining("mounted") as unknown });
    expect(
      (await sandbox().exec(`/opt/xensource/libexec/check-device-sharing ${free.kernelName}`)).exitCode,
    ).toBe(0);
  });

  test("the machine's own boot disk is visible in dom0", async () => {
    const disks = await dom0("lsblk -d -n -o NAME,TYPE | awk '$2==\"disk\"{print $1}'");
    expect(disks.split("\n")).toContain("vda");
  });

  test("udev's links stay private to dom0: the host's /dev has none of them", () => {
    for (const disk of sandbox().disks) expect(existsSync(disk.byId)).toBe(false);
  });
});

describe("dom0 files", () => {
  test("/etc/xensource-inventory names this host and its control domain", async () => {
    const inventory = await sandbox().readFile("/etc/xensource-inventory");
    const dom0Vm = sandbox()
      .simulator.control.state()
      .vms.find((vm) => vm.isControlDomain)!;
    expect(inventory).toContain(`INSTALLATION_UUID='${sandbox().host.uuid}'`);
    expect(inventory).toContain(`CONTROL_DOMAIN_UUID='${dom0Vm.uuid}'`);
    expect(inventory).toMatch(/^PRODUCT_VERSION='[\d.]+'$/m);
  });

  test("the host's own /etc is untouched", () => {
    expect(existsSync("/etc/xensource-inventory")).toBe(false);
    expect(existsSync("/opt/xensource")).toBe(false);
  });
});

describe("xe", () => {
  test("host-list --minimal prints this host's UUID", async () => {
    expect(await dom0("xe host-list --minimal")).toBe(sandbox().host.uuid);
  });

  test("vm-list prints records in xe's layout, filtered by field", async () => {
    const halted = sandbox().vms.find((vm) => vm.powerState === "Halted")!;
    const output = await dom0(`xe vm-list uuid=${halted.uuid}`);
    expect(output.split("\n")).toEqual([
      `uuid ( RO)           : ${halted.uuid}`,
      `     name-label ( RW): ${halted.nameLabel}`,
      `    power-state ( RO): halted`,
    ]);
  });

  test("finds the udev SR by sm-config:type=block, with params= and --minimal", async () => {
    const sr = await dom0("xe sr-list type=udev sm-config:type=block --minimal");
    expect(sr).toMatch(/^[0-9a-f-]{36}$/);
    expect(await dom0(`xe sr-list uuid=${sr} params=name-label,content-type`)).toMatch(
      /^name-label \( RW\) +: Removable storage\n +content-type \( RO\): disk$/,
    );
  });

  test("prints XAPI errors as xe does and exits 1", async () => {
    const result = await sandbox().exec("xe vbd-plug uuid=00000000-0000-0000-0000-000000000000");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^Error code: UUID_INVALID\nError parameters: .*00000000-0000-0000-0000-000000000000/,
    );
  });

  test("the USB chain by hand: pusb-list, pusb-param-set, vusb-create, vusb-list, vusb-destroy, pusb-scan", async () => {
    const pusb = await dom0("xe pusb-list vendor-id=10c4 product-id=ea60 --minimal");
    expect(pusb).toMatch(/^[0-9a-f-]{36}$/);
    await dom0(`xe pusb-param-set uuid=${pusb} passthrough-enabled=true`);
    expect(await dom0(`xe pusb-param-get uuid=${pusb} param-name=passthrough-enabled`)).toBe("true");
    const group = await dom0(`xe pusb-list uuid=${pusb} params=usb-group-uuid --minimal`);
    const halted = sandbox().vms.find((vm) => vm.powerState === "Halted")!;
    const vusb = await dom0(`xe vusb-create usb-group-uuid=${group} vm-uuid=${halted.uuid}`);
    expect(await dom0(`xe vusb-list vm-uuid=${halted.uuid} --minimal`)).toBe(vusb);
    await dom0(`xe vusb-destroy uuid=${vusb}`);
    expect(await dom0("xe vusb-list --minimal")).toBe("");

    sandbox().simulator.control.usb.unplug(sandbox().host.uuid, "1-2");
    await dom0(`xe pusb-scan host-uuid=${sandbox().host.uuid}`);
    let left = pusb;
    for (let attempt = 0; attempt < 50 && left !== ""; attempt++) left = await dom0("xe pusb-list --minimal");
    expect(left).toBe("");
    sandbox().simulator.control.usb.plug(sandbox().host.uuid, DEFAULT_USB_DEVICE, { scan: true });
  });

  test("logs in and out on every invocation", async () => {
    const counts = () => sandbox().simulator.control.trace.get().countsByMethod;
    const before = counts();
    await dom0("xe host-list --minimal");
    await dom0("xe vm-list --minimal");
    const after = counts();
    for (const method of ["session.login_with_password", "session.logout"]) {
      expect((after[method] ?? 0) - (before[method] ?? 0)).toBe(2);
    }
  });

  test("drives a disk through vdi-introduce, vbd-create/plug/unplug/destroy, vdi-forget and sr-scan", async () => {
    const disk = sandbox().disks.find((candidate) => !candidate.inUse)!;
    const location = `/dev/xapi/block/${disk.kernelName}`;
    const running = sandbox().vms.find((vm) => vm.powerState === "Running")!;
    const sr = await dom0("xe sr-list type=udev sm-config:type=block --minimal");
    // A link by hand (no rule, so no local-device-change): xe does what the script would.
    await dom0(`mkdir -p /dev/xapi/block && ln -s ../../${disk.kernelName} ${location}`);

    const vdi = await dom0(
      `xe vdi-introduce uuid=$(cat /proc/sys/kernel/random/uuid) sr-uuid=${sr} type=user location=${location}`,
    );
    expect(await dom0(`xe vdi-list location=${location} --minimal`)).toBe(vdi);
    expect(await dom0(`xe vdi-param-get uuid=${vdi} param-name=virtual-size`)).toBe(String(disk.sizeBytes));
    const again = await sandbox().exec(`xe vdi-introduce sr-uuid=${sr} type=user location=${location}`);
    expect(again).toMatchObject({
      exitCode: 1,
      stderr: expect.stringContaining("LOCATION_NOT_UNIQUE") as unknown,
    });

    const vbd = await dom0(`xe vbd-create vm-uuid=${running.uuid} vdi-uuid=${vdi} device=autodetect`);
    await dom0(`xe vbd-plug uuid=${vbd}`);
    expect(await dom0(`xe vbd-list uuid=${vbd} params=currently-attached --minimal`)).toBe("true");
    expect(await dom0(`xe vbd-param-get uuid=${vbd} param-name=device`)).toMatch(/^xvd[b-z]$/);
    // A map key set twice keeps the last value (remove_from_other_config, then add_to_other_config).
    await dom0(`xe vbd-param-set uuid=${vbd} other-config:k=one other-config:j="a b"`);
    await dom0(`xe vbd-param-set uuid=${vbd} other-config:k=two`);
    expect(await dom0(`xe vbd-param-get uuid=${vbd} param-name=other-config param-key=k`)).toBe("two");
    expect(await dom0(`xe vbd-list other-config:j="a b" --minimal`)).toBe(vbd);
    const readOnly = await sandbox().exec(`xe vbd-param-set uuid=${vbd} device=xvdq`);
    expect(readOnly).toMatchObject({ exitCode: 1, stderr: expect.stringContaining("read-only") as unknown });
    const twice = await sandbox().exec(`xe vbd-plug uuid=${vbd}`);
    expect(twice.stderr).toContain("Error code: DEVICE_ALREADY_ATTACHED");
    await dom0(`xe vbd-unplug uuid=${vbd}`);
    await dom0(`xe vbd-destroy uuid=${vbd}`);
    expect(await dom0(`xe vbd-list vdi-uuid=${vdi} --minimal`)).toBe("");

    await dom0(`xe vdi-forget uuid=${vdi}`);
    expect(await dom0(`xe vdi-list location=${location} --minimal`)).toBe("");
    // The link is still there: a scan finds it again, under a new UUID.
    await dom0(`xe sr-scan uuid=${sr}`);
    const rescanned = await dom0(`xe vdi-list location=${location} --minimal`);
    expect(rescanned).toMatch(/^[0-9a-f-]{36}$/);
    expect(rescanned).not.toBe(vdi);
    await dom0(`rm ${location} && xe sr-scan uuid=${sr}`);
    expect(await dom0(`xe vdi-list location=${location} --minimal`)).toBe("");
  });
});
