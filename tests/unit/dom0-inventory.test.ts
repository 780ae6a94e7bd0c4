import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  dom0Use,
  majorMinorOf,
  parseInventory,
  resolveDisk,
  type Dom0Disk,
  type Dom0Inventory,
} from "#provider/core/dom0-inventory.js";
import { INVENTORY_SCRIPT } from "#provider/dom0/inventory.js";

const SAMPLE = [
  "@xensource",
  "INSTALLATION_UUID='7d1c7f36-6b0b-4d0e-9a4b-0c1c2b3a4d5e'",
  "PRODUCT_VERSION='8.2.1'",
  "@sm",
  "2.30.8",
  "@rootdev 2049",
  "@mountinfo",
  "0:21 /proc",
  "8:1 /",
  "8:33 /srv/data",
  "@swaps",
  "/dev/sdb2",
  "@disk sda 8:0 976773168",
  "partition sda1 8:1",
  "@disk sdb 8:16 100",
  "partition sdb2 8:18",
  "@disk sdc 8:32 7814037168",
  "partition sdc1 8:33",
  "@disk sdd 8:48 7814037168",
  "holder dm-0",
  "@disk sde 8:64 7814037168",
  "@disk sdf 8:80 7814037168",
  "@disk sdg 8:96 7814037168",
  "@udevdb",
  "P: /devices/pci0000:00/ata1/host0/target0:0:0/0:0:0:0/block/sda",
  "N: sda",
  "E: ID_SERIAL=WDC_WD10_BOOT",
  "E: ID_SERIAL_SHORT=BOOT1",
  "E: DEVLINKS=/dev/disk/by-id/ata-WDC_WD10_BOOT",
  "",
  "P: /devices/pci0000:00/ata2/host1/target1:0:0/1:0:0:0/block/sdb",
  "E: ID_SERIAL_SHORT=SWAPPY",
  "",
  "P: /devices/pci0000:00/ata3/host2/target2:0:0/2:0:0:0/block/sdc",
  "E: ID_SERIAL_SHORT=MOUNTED",
  "",
  "P: /devices/pci0000:00/ata4/host3/target3:0:0/3:0:0:0/block/sdd",
  "E: ID_SERIAL_SHORT=LVM",
  "",
  "P: /devices/pci0000:00/ata5/host4/target4:0:0/4:0:0:0/block/sde",
  "S: disk/by-id/ata-ST8000_ZA1",
  "E: ID_SERIAL=ST8000_ZA1",
  "E: ID_SERIAL_SHORT=ZA1",
  "E: ID_WWN=0x5000c500a1b2c3d4",
  "E: DEVLINKS=/dev/disk/by-id/ata-ST8000_ZA1 /dev/disk/by-id/wwn-0x5000c500a1b2c3d4",
  "",
  "P: /devices/pci0000:00/ata6/host5/target5:0:0/5:0:0:0/block/sdf",
  "E: ID_SERIAL_SHORT=TWIN",
  "",
  "P: /devices/pci0000:00/ata7/host6/target6:0:0/6:0:0:0/block/sdg",
  "E: ID_SERIAL_SHORT=TWIN",
  "@xapiblock",
  "sde ../../sde",
  "@rule /etc/udev/rules.d/99-hand.rules",
  '|KERNEL=="sde", SYMLINK+="xapi/block/%k"',
  "|",
  "@end",
].join("\n");

function disk(inventory: Dom0Inventory, kernelName: string): Dom0Disk {
  const found = inventory.disks.find((d) => d.kernelName === kernelName);
  if (found === undefined) throw new Error(`no ${kernelName} in the sample`);
  return found;
}

describe("parseInventory", () => {
  const inventory = parseInventory(SAMPLE);

  test("reads the xensource inventory, mounts, swaps, symlinks and rules", () => {
    expect(inventory.xensource["INSTALLATION_UUID"]).toBe("7d1c7f36-6b0b-4d0e-9a4b-0c1c2b3a4d5e");
    expect(inventory.rootDevNumber).toBe("8:1");
    expect(inventory.mounts.get("8:33")).toBe("/srv/data");
    expect(inventory.swaps).toEqual(["sdb2"]);
    expect(inventory.xapiBlock.get("sde")).toBe("sde");
    expect(inventory.passthroughRules.get("/etc/udev/rules.d/99-hand.rules")).toBe(
      'KERNEL=="sde", SYMLINK+="xapi/block/%k"\n',
    );
  });

  test("reads each disk with its size, partitions, holders, udev properties and links", () => {
    const sde = disk(inventory, "sde");
    expect(sde.sizeBytes).toBe(7814037168 * 512);
    expect(sde.properties["ID_WWN"]).toBe("0x5000c500a1b2c3d4");
    expect(sde.links).toEqual(["/dev/disk/by-id/ata-ST8000_ZA1", "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"]);
    expect(disk(inventory, "sda").partitions).toEqual([{ name: "sda1", devNumber: "8:1" }]);
    expect(disk(inventory, "sdd").holders).toEqual(["dm-0"]);
  });

  test("reads the sm version, and none from anything rpm prints that is not a version", () => {
    expect(inventory.smVersion).toBe("2.30.8");
    const answer = (lines: string[]) =>
      parseInventory(SAMPLE.replace("@sm\n2.30.8", ["@sm", ...lines].join("\n")));
    expect(answer(["package sm is not installed"]).smVersion).toBeUndefined();
    expect(answer([]).smVersion).toBeUndefined();
    expect(answer(["3.2.3", "2.30.8"]).smVersion).toBe("3.2.3");
    expect(parseInventory(SAMPLE.replace("@sm\n2.30.8\n", "")).smVersion).toBeUndefined();
  });

  test("refuses output that was cut short", () => {
    expect(() => parseInventory(SAMPLE.replace("@end", ""))).toThrow(/did not run to its end/);
  });
});

describe("majorMinorOf", () => {
  // stat(2)'s st_dev as the kernel encodes it (new_encode_dev) and glibc's major()/minor() split it.
  test.each([
    ["2049", "8:1"],
    ["65024", "254:0"],
    ["66304", "259:0"],
    [String(44 + (7 << 8) + (256 << 12)), "7:300"],
    [String((BigInt(5000 & 0xfff) << 8n) | (BigInt(5000 & ~0xfff) << 32n) | 3n), "5000:3"],
  ])("%s is %s", (decimal, expected) => {
    expect(majorMinorOf(decimal)).toBe(expected);
  });

  test("anything but a decimal number gives no device", () => {
    for (const odd of ["", "8:1", "-1", "0x801", "12 3"]) expect(majorMinorOf(odd)).toBe("");
  });
});

describe("dom0Use", () => {
  const inventory = parseInventory(SAMPLE);
  test.each([
    ["sda", /dom0 boot disk/],
    ["sdb", /swap/],
    ["sdc", /mounted in dom0 on \/srv\/data/],
    ["sdd", /holds it through dm-0/],
  ])("%s is in use by dom0", (name, reason) => {
    expect(dom0Use(inventory, disk(inventory, name))).toMatch(reason);
  });

  test("a disk dom0 does not use is free", () => {
    expect(dom0Use(inventory, disk(inventory, "sde"))).toBeUndefined();
  });
});

describe("resolveDisk", () => {
  const inventory = parseInventory(SAMPLE);
  test.each([
    [{ serial: "ZA1" }, "sde"],
    [{ serial: "ST8000_ZA1" }, "sde"],
    [{ wwn: "0x5000c500a1b2c3d4" }, "sde"],
    [{ byId: "ata-ST8000_ZA1" }, "sde"],
    [{ kernelName: "sde" }, "sde"],
  ])("finds %j", (identity, kernelName) => {
    const resolution = resolveDisk(inventory, identity);
    expect(resolution.ok && resolution.disk.kernelName).toBe(kernelName);
  });

  test("says which disks exist when none matches", () => {
    const resolution = resolveDisk(inventory, { serial: "NOPE" });
    expect(resolution).toEqual({
      ok: false,
      code: "DISK_ABSENT",
      reason: expect.stringMatching(/no disk with serial NOPE.*sde \(serial ZA1\)/) as unknown,
    });
  });

  test("a SAS disk's label serial (ID_SCSI_SERIAL) is refused with the identities to use instead", () => {
    // As scsi_id exports a SAS disk: the page-83 NAA id in ID_SERIAL(_SHORT), the label in ID_SCSI_SERIAL.
    const withSas = parseInventory(
      SAMPLE.replace("@disk sdf", "@disk sdh 8:112 7814037168\n@disk sdf").replace(
        "@xapiblock",
        [
          "",
          "P: /devices/pci0000:00/0000:00:03.0/host7/port-7:0/end_device-7:0/target7:0:0/7:0:0:0/block/sdh",
          "E: ID_BUS=scsi",
          "E: ID_SERIAL=35000c500aabbccdd",
          "E: ID_SERIAL_SHORT=5000c500aabbccdd",
          "E: ID_SCSI_SERIAL=ZC1SAS01",
          "E: ID_WWN=0x5000c500aabbccdd",
          "E: ID_WWN_WITH_EXTENSION=0x5000c500aabbccdd",
          "@xapiblock",
        ].join("\n"),
      ),
    );
    const found = resolveDisk(withSas, { serial: "5000c500aabbccdd" });
    expect(found.ok && found.disk.kernelName).toBe("sdh");
    expect(resolveDisk(withSas, { serial: "ZC1SAS01" })).toEqual({
      ok: false,
      code: "DISK_SCSI_UNIT_SERIAL",
      reason: expect.stringMatching(
        /ZC1SAS01 is the label serial .*ID_SCSI_SERIAL.* \/dev\/sdh.*disk: \{ wwn: "0x5000c500aabbccdd" \} or disk: \{ serial: "5000c500aabbccdd" \}.*pulumi-xen-passthrough disks/,
      ) as unknown,
    });
  });

  test("refuses an identity that matches several disks", () => {
    expect(resolveDisk(inventory, { serial: "TWIN" })).toEqual({
      ok: false,
      code: "DISK_AMBIGUOUS",
      reason: expect.stringMatching(/matches several disks \(sdf, sdg\)/) as unknown,
    });
  });

  test("refuses a partition named by kernel name", () => {
    expect(resolveDisk(inventory, { kernelName: "sdc1" })).toEqual({
      ok: false,
      code: "DISK_IS_PARTITION",
      reason: expect.stringMatching(/partition of \/dev\/sdc/) as unknown,
    });
  });
});

describe("INVENTORY_SCRIPT on this machine", () => {
  test("brings rules files back byte for byte, and only those that mention xapi/block", () => {
    const dir = mkdtempSync(join(tmpdir(), "xp-rules-"));
    const texts: Record<string, string> = {
      "10-plain.rules": 'KERNEL=="sdb", SYMLINK+="xapi/block/%k"\n',
      "20-no-final-newline.rules": '# x\nENV{ID_SERIAL}=="a b", SYMLINK+="xapi/block/%k"',
      "30-odd-lines.rules": '@end\n|\n\n  \\ $HOME `x` SYMLINK+="xapi/block/%k"\n\n',
      "40-other.rules": 'KERNEL=="sdb", SYMLINK+="disk/other"\n',
    };
    try {
      for (const [name, text] of Object.entries(texts)) writeFileSync(join(dir, name), text);
      const script = INVENTORY_SCRIPT.replace("/etc/udev/rules.d/*.rules", `${dir}/*.rules`);
      const found = parseInventory(execFileSync("bash", ["-s"], { input: script, encoding: "utf8" }));
      const ours = Object.entries(texts).filter(([name]) => name !== "40-other.rules");
      expect(Object.fromEntries(found.passthroughRules)).toEqual(
        Object.fromEntries(ours.map(([name, text]) => [join(dir, name), text])),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("asks rpm for sm's version with the exact query, and takes no version when rpm has none", () => {
    const dir = mkdtempSync(join(tmpdir(), "xp-rpm-"));
    // A stand-in rpm that answers the query of contracts C1 and fails like rpm 4.11 otherwise.
    const rpm = [
      "#!/bin/sh",
      `if [ "$*" = "-q --qf %{VERSION}\\n sm" ]; then echo "$XP_SM"; exit 0; fi`,
      'echo "package $3 is not installed"; exit 1',
    ].join("\n");
    try {
      writeFileSync(join(dir, "rpm"), `${rpm}\n`, { mode: 0o755 });
      const run = (sm: string) =>
        parseInventory(
          execFileSync("bash", ["-s"], {
            input: INVENTORY_SCRIPT,
            encoding: "utf8",
            env: { ...process.env, PATH: `${dir}:${process.env["PATH"] ?? ""}`, XP_SM: sm },
          }),
        ).smVersion;
      expect(run("3.2.3")).toBe("3.2.3");
      expect(run("2.30.8")).toBe("2.30.8");
      writeFileSync(join(dir, "rpm"), '#!/bin/sh\necho "package sm is not installed"; exit 1\n', {
        mode: 0o755,
      });
      expect(run("3.2.3")).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The script is POSIX shell over /sys and /proc: run it here for real and parse what it prints.
  const output = execFileSync("bash", ["-s"], { input: INVENTORY_SCRIPT, encoding: "utf8" });
  const inventory = parseInventory(output);

  test("takes the root filesystem's device number that mountpoint -d prints", () => {
    expect(inventory.rootDevNumber).toBe(
      execFileSync("mountpoint", ["-d", "/"], { encoding: "utf8" }).trim(),
    );
  });

  test("lists the whole disks of /sys/block and finds the disk that holds /", () => {
    expect(inventory.disks.length).toBeGreaterThan(0);
    const root = inventory.disks.filter((d) => dom0Use(inventory, d)?.includes("boot disk"));
    expect(root).toHaveLength(1);
  });
});
