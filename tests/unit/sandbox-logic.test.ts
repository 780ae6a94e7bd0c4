// The dom0 sandbox's pure parts: xe's argument parsing and output formats, the disks'
// identities and fixture rule, the inventory, sshd's config and log, the CLI's arguments.
// (No root needed: a unit test.)
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCliArgs } from "xen-sandbox/dist/cli";
import { disksPerHost } from "xen-sandbox/dist/dom0/pool";
import { kernelNameOfLink, namespaceDeviceDirectory } from "xen-sandbox/dist/dom0/device-directory";
import { levelsLeavesFirst } from "xen-sandbox/dist/dom0/host-processes";
import { checkDiskBuses, diskIdentities, renderFixtureRules } from "xen-sandbox/dist/dom0/identities";
import { inventoryValue, renderInventory } from "xen-sandbox/dist/dom0/inventory";
import { renderHolderScript } from "xen-sandbox/dist/dom0/namespace";
import { missingPrerequisites, TOOLS } from "xen-sandbox/dist/dom0/prerequisites";
import { withRootHash } from "xen-sandbox/dist/dom0/root-password";
import { classifySshdLogLine, renderSshdConfig } from "xen-sandbox/dist/dom0/sshd";
import { Teardown } from "xen-sandbox/dist/dom0/teardown";
import { parseXeArgs } from "xen-sandbox/dist/dom0/xe/args";
import { XE_CLASSES, formatValue } from "xen-sandbox/dist/dom0/xe/fields";
import { formatMinimal, formatRecords, matchesFilters, selectFields } from "xen-sandbox/dist/dom0/xe/format";

describe("xe arguments", () => {
  test("splits key=value at the first '=' and notes --minimal", () => {
    const parsed = parseXeArgs([
      "vdi-list",
      "location=/dev/xapi/block/sdb",
      "other-config:a=b=c",
      "--minimal",
    ]);
    expect(parsed).toEqual({
      command: "vdi-list",
      minimal: true,
      params: new Map([
        ["location", "/dev/xapi/block/sdb"],
        ["other-config:a", "b=c"],
      ]),
    });
  });

  test.each([[[]], [["--minimal"]], [["vm-list", "oops"]], [["vm-list", "=x"]]])("refuses %j", (argv) => {
    expect(parseXeArgs(argv)).toHaveProperty("error");
  });
});

describe("xe output", () => {
  const vm = XE_CLASSES["vm"]!;
  const vbd = XE_CLASSES["vbd"]!;
  const records = new Map<string, Record<string, unknown>>([
    [
      "OpaqueRef:vm1",
      { uuid: "u-vm1", name_label: "media", power_state: "Running", other_config: { k: "v" } },
    ],
    ["OpaqueRef:vm2", { uuid: "u-vm2", name_label: "archive", power_state: "Halted", other_config: {} }],
    [
      "OpaqueRef:vbd1",
      { uuid: "u-vbd1", VM: "OpaqueRef:vm1", VDI: "OpaqueRef:gone", device: "xvdb", empty: false },
    ],
  ]);
  const vms = [records.get("OpaqueRef:vm1")!, records.get("OpaqueRef:vm2")!];

  test("formats values as xe does: maps, sets, scalars", () => {
    expect(formatValue({ a: "1", b: "2" })).toBe("a: 1; b: 2");
    expect(formatValue(["x", "y"])).toBe("x; y");
    expect(formatValue(true)).toBe("true");
    expect(formatValue(42)).toBe("42");
    expect(formatValue(undefined)).toBe("<not in database>");
  });

  test("records: names aligned on the colon, four wider than the longest, blank lines between", () => {
    const fields = selectFields(vm, undefined);
    if ("error" in fields) throw new Error(fields.error);
    expect(formatRecords(vms, fields, records)).toBe(
      [
        "uuid ( RO)           : u-vm1",
        "     name-label ( RW): media",
        "    power-state ( RO): running",
        "",
        "",
        "uuid ( RO)           : u-vm2",
        "     name-label ( RW): archive",
        "    power-state ( RO): halted",
        "",
        "",
        "",
      ].join("\n"),
    );
    expect(formatRecords([], fields, records)).toBe("");
  });

  test("--minimal: the first selected field, comma-separated", () => {
    const fields = selectFields(vm, "name-label,uuid");
    if ("error" in fields) throw new Error(fields.error);
    expect(formatMinimal(vms, fields[0]!, records)).toBe("media,archive\n");
  });

  test("params=all and unknown fields", () => {
    expect(selectFields(vm, "all")).toBe(vm.fields);
    expect(selectFields(vm, "uuid,bogus")).toEqual({ error: "Unknown field 'bogus'" });
  });

  test("filters on plain fields, map keys and followed references", () => {
    const vm1 = records.get("OpaqueRef:vm1")!;
    expect(matchesFilters(vm, vm1, records, new Map([["power-state", "running"]]))).toBe(true);
    expect(matchesFilters(vm, vm1, records, new Map([["power-state", "halted"]]))).toBe(false);
    expect(matchesFilters(vm, vm1, records, new Map([["other-config:k", "v"]]))).toBe(true);
    expect(matchesFilters(vm, vm1, records, new Map([["other-config:k", "w"]]))).toBe(false);
    expect(matchesFilters(vm, vm1, records, new Map([["nope", "x"]]))).toEqual({
      error: "Unknown field 'nope'",
    });
    const vbd1 = records.get("OpaqueRef:vbd1")!;
    expect(matchesFilters(vbd, vbd1, records, new Map([["vm-uuid", "u-vm1"]]))).toBe(true);
    expect(matchesFilters(vbd, vbd1, records, new Map([["vdi-uuid", "<not in database>"]]))).toBe(true);
  });
});

describe("disk identities and the fixture rule", () => {
  const disks = diskIdentities(2, "a1b2c3");

  test("free disks, then the in-use one, with ATA-like serials, WWNs and by-id names", () => {
    expect(disks.map((disk) => disk.inUse)).toEqual([false, false, true]);
    expect(disks[1]).toMatchObject({
      serial: "ZSA1B2C301",
      wwn: "0x5000c500a1b2c301",
      idSerial: "ST4000VN008-2DR166_ZSA1B2C301",
      byId: "/dev/disk/by-id/ata-ST4000VN008-2DR166_ZSA1B2C301",
      byWwn: "/dev/disk/by-id/wwn-0x5000c500a1b2c301",
    });
    expect(new Set(disks.map((disk) => disk.sizeBytes)).size).toBe(3);
  });

  test("matches each loop disk by its backing file and sets the identity udev rules read", () => {
    const rules = renderFixtureRules(
      disks.map((identity) => ({ identity, imagePath: `/tmp/d${identity.index}.img` })),
    );
    const line = rules.split("\n").find((candidate) => candidate.includes("/tmp/d0.img"))!;
    expect(line).toContain('ATTR{loop/backing_file}=="/tmp/d0.img"');
    for (const set of [
      'ENV{ID_BUS}="ata"',
      `ENV{ID_SERIAL}="${disks[0]!.idSerial}"`,
      `ENV{ID_WWN}="${disks[0]!.wwn}"`,
    ]) {
      expect(line).toContain(set);
    }
    expect(line).toContain(`SYMLINK+="disk/by-id/ata-${disks[0]!.idSerial}"`);
    expect(rules).toContain('ENV{DEVTYPE}!="disk", GOTO="xen_sandbox_fixture_end"');
  });

  test("a SAS disk gets scsi_id's properties: the NAA id as ID_SERIAL(_SHORT), the label in ID_SCSI_SERIAL", () => {
    const [sas, nvme, sata, inUse] = diskIdentities(3, "a1b2c3", ["sas", "nvme-centos7"]);
    expect(sas).toMatchObject({
      bus: "sas",
      serial: "ZCA1B2C300",
      idSerial: "35000c500a1b2c300",
      idSerialShort: "5000c500a1b2c300",
      wwn: "0x5000c500a1b2c300",
      byId: "/dev/disk/by-id/scsi-35000c500a1b2c300",
      byWwn: "/dev/disk/by-id/wwn-0x5000c500a1b2c300",
    });
    expect(nvme).toMatchObject({ bus: "nvme-centos7", idSerial: "", wwn: "", byId: "", byWwn: "" });
    expect([sata?.bus, inUse?.bus, inUse?.inUse]).toEqual(["sata", "sata", true]);
    const rules = renderFixtureRules(
      [sas!, nvme!].map((identity) => ({ identity, imagePath: `/tmp/d${identity.index}.img` })),
    );
    const line = (image: string) => rules.split("\n").find((candidate) => candidate.includes(image))!;
    for (const set of [
      'ENV{ID_BUS}="scsi"',
      'ENV{ID_SERIAL}="35000c500a1b2c300"',
      'ENV{ID_SERIAL_SHORT}="5000c500a1b2c300"',
      'ENV{ID_SCSI_SERIAL}="ZCA1B2C300"',
      'ENV{ID_WWN_WITH_EXTENSION}="0x5000c500a1b2c300"',
      'SYMLINK+="disk/by-id/scsi-35000c500a1b2c300"',
    ]) {
      expect(line("/tmp/d0.img")).toContain(set);
    }
    // CentOS 7's rules have no NVMe lines: the fixture only marks the disk as the sandbox's.
    expect(line("/tmp/d1.img")).toBe('ATTR{loop/backing_file}=="/tmp/d1.img", ENV{ID_XEN_SANDBOX_DISK}="1"');
  });

  test("an unknown disk bus is refused by name", () => {
    expect(() => checkDiskBuses(["sas", "scsi"])).toThrow(
      /unknown disk bus "scsi" in diskBuses; use "sata", "sas", "nvme-centos7"/,
    );
  });

  test("a /dev/xapi/block link resolves to its kernel name", () => {
    expect(kernelNameOfLink("loop3", "../../loop3")).toBe("loop3");
    expect(kernelNameOfLink("disk-a", "/dev/sdb")).toBe("sdb");
    expect(kernelNameOfLink("sdc", undefined)).toBe("sdc");
  });

  test("the udev SR's scan goes on when udev removes a link while it reads it, as sm's does", async () => {
    const root = mkdtempSync(join(tmpdir(), "xp-devdir-"));
    try {
      mkdirSync(join(root, "dev/xapi/block"), { recursive: true });
      symlinkSync("../../vanishing-disk", join(root, "dev/xapi/block/loop99"));
      const seen = new Map<string, number>();
      // The second look at the link (readlink, after lstat) finds it gone: udev removed it between.
      const outside = (path: string) => {
        const count = (seen.get(path) ?? 0) + 1;
        seen.set(path, count);
        if (path === "/dev/xapi/block/loop99" && count === 2) rmSync(join(root, path));
        return join(root, path);
      };
      const entries = await namespaceDeviceDirectory(outside, () => "label").list();
      expect(entries).toEqual([expect.objectContaining({ name: "loop99", kernelName: "", sizeBytes: 0 })]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("dom0 files", () => {
  test("the inventory is KEY='value' lines, readable back", () => {
    const text = renderInventory({ installationUuid: "host-uuid", controlDomainUuid: "dom0-uuid" });
    expect(text).toMatch(/^INSTALLATION_UUID='host-uuid'$/m);
    expect(inventoryValue(text, "CONTROL_DOMAIN_UUID")).toBe("dom0-uuid");
    expect(inventoryValue(text, "MISSING")).toBeUndefined();
  });

  test("the holder overlays /etc, /opt, /var, gives /run and udev's /dev dirs private tmpfs, then sleeps", () => {
    const script = renderHolderScript("/tmp/state");
    expect(script).toContain("lowerdir=/etc,upperdir=/tmp/state/etc-upper,workdir=/tmp/state/etc-work /etc");
    expect(script).toContain("mount -t tmpfs -o mode=755 tmpfs /run\n");
    expect(script).toMatch(/flock 9\nfor dir in \/dev\/xapi \/dev\/disk \/dev\/block \/dev\/char; do\n/);
    expect(script.trim().split("\n").at(-1)).toBe("exec sleep infinity");
  });

  test("sshd: loopback only, stream-local forwarding, password login only when asked", () => {
    const config = { port: 2222, hostKeyPath: "/k", authorizedKeysPath: "/a.pub", passwordLogin: false };
    const keyOnly = renderSshdConfig(config);
    expect(keyOnly).toContain("ListenAddress 127.0.0.1");
    expect(keyOnly).toContain("AllowStreamLocalForwarding yes");
    expect(keyOnly).toContain("PasswordAuthentication no");
    expect(keyOnly).toContain("PermitRootLogin prohibit-password");
    expect(keyOnly).toMatch(/^SetEnv PATH=\/opt\/xensource\/bin:/m);
    expect(renderSshdConfig({ ...config, passwordLogin: true })).toContain("PasswordAuthentication yes");
  });

  test("root's password hash goes into root's shadow entry only", () => {
    const shadow = "root:*:20228:0:99999:7:::\nrootless:!:20228::::::\n";
    expect(withRootHash(shadow, "$6$salt$hash")).toBe(
      "root:$6$salt$hash:20228:0:99999:7:::\nrootless:!:20228::::::\n",
    );
  });

  test("sshd's log lines count as connections and sessions", () => {
    expect(
      classifySshdLogLine("Accepted publickey for root from 127.0.0.1 port 5000 ssh2: ED25519 SHA256:x"),
    ).toBe("connection");
    expect(classifySshdLogLine("Starting session: command for root from 127.0.0.1 port 5000 id 0")).toBe(
      "session",
    );
    expect(classifySshdLogLine("Server listening on 127.0.0.1 port 2222.")).toBeUndefined();
  });
});

describe("processes and teardown", () => {
  test("stragglers are killed by levels, children first", () => {
    const levels = levelsLeavesFirst([
      { pid: 10, ppid: 1, state: "S" },
      { pid: 11, ppid: 10, state: "S" },
      { pid: 12, ppid: 11, state: "S" },
      { pid: 13, ppid: 10, state: "S" },
    ]);
    expect(levels.map((level) => level.map((info) => info.pid))).toEqual([[12], [11, 13], [10]]);
  });

  test("undo steps run in reverse, all of them, failures reported together", async () => {
    const ran: string[] = [];
    const teardown = new Teardown();
    teardown.defer("first", () => void ran.push("first"));
    teardown.defer("broken", () => {
      throw new Error("boom");
    });
    teardown.defer("last", () => void ran.push("last"));
    await expect(teardown.run()).rejects.toThrow('teardown step "broken" failed: boom');
    expect(ran).toEqual(["last", "first"]);
    await expect(teardown.run()).resolves.toBeUndefined();
  });

  test("missing prerequisites say what to install", () => {
    const withoutSshd = (program: string) => (program.endsWith("sshd") ? undefined : program);
    const missing = missingPrerequisites({ platform: "linux", uid: 1000, which: withoutSshd }, TOOLS);
    expect(missing).toEqual([
      "root (run it with sudo or as root)",
      "the Debian packages openssh-server (install them: apt-get install -y openssh-server)",
    ]);
    expect(missingPrerequisites({ platform: "darwin", uid: 0, which: (program) => program }, TOOLS)).toEqual([
      "Linux (this is darwin)",
    ]);
  });
});

describe("CLI arguments", () => {
  test.each([
    [["start"], { command: "start", disks: 4, json: false }],
    [["start", "--disks", "2", "--json"], { command: "start", disks: 2, json: true }],
    [["xapi", "--json"], { command: "xapi", json: true }],
    [["start", "--hosts", "3"], { command: "start", disks: 4, json: false, hosts: 3 }],
    [
      ["start", "--hosts", "3", "--disks", "2"],
      { command: "start", disks: 2, json: false, hosts: 3, disksPerHost: [2, 2, 2] },
    ],
    [
      ["start", "--hosts", "2", "--disks", "1,0"],
      { command: "start", disks: 4, json: false, hosts: 2, disksPerHost: [1, 0] },
    ],
    [[], { command: "help" }],
  ])("%j", (argv, expected) => {
    expect(parseCliArgs(argv)).toEqual(expected);
  });

  test.each([
    [["stop"]],
    [["start", "--disks"]],
    [["start", "--disks", "-1"]],
    [["xapi", "--disks", "2"]],
    [["start", "--hosts", "0"]],
    [["start", "--hosts", "17"]],
    [["start", "--hosts", "3", "--disks", "1,2"]],
    [["start", "--disks", "1,2"]],
    [["xapi", "--hosts", "2"]],
  ])("refuses %j", (argv) => {
    expect(parseCliArgs(argv)).toHaveProperty("error");
  });
});

describe("pool shape", () => {
  test("default: 4 disks on every host but the last of 3 or more", () => {
    expect(disksPerHost(1, undefined)).toEqual([4]);
    expect(disksPerHost(2, undefined)).toEqual([4, 4]);
    expect(disksPerHost(3, undefined)).toEqual([4, 4, 0]);
  });

  test("one count for every host, or one per host", () => {
    expect(disksPerHost(3, 2)).toEqual([2, 2, 2]);
    expect(disksPerHost(2, [1, 3])).toEqual([1, 3]);
    expect(() => disksPerHost(3, [1, 3])).toThrow("disks lists 2 hosts, the pool has 3");
  });
});
