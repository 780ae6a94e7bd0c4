// The discovery CLI's pure core: which disks it lists, the identity it suggests, how it sees
// dom0's use and existing passthroughs, and how it prints them (table and JSON).
import { parseInventory, type Dom0Inventory } from "#provider/core/dom0-inventory.js";
import { renderRule } from "#provider/core/rule.js";
import { alignColumns, formatJson, formatSize, formatTable, pasteLine } from "#provider/cli/disk-format.js";
import { buildDiskReport, type DiskRow } from "#provider/cli/disk-report.js";
import type { HostSide } from "#provider/look/host-side.js";
import { suggestIdentity } from "#provider/cli/suggest-identity.js";
import type { VbdRecord, VdiRecord, VmRecord, WithRef } from "#provider/xapi/records.js";

const OUR_RULE = renderRule({ serial: "ZA1" });
const HAND_RULE = 'KERNEL=="sdg", SYMLINK+="xapi/block/%k"\n';
/** A rules file as the inventory script prints it: every line of its text prefixed by "|". */
const ruleSection = (path: string, text: string) => [
  `@rule ${path}`,
  ...`|${text.replace(/\n/g, "\n|")}`.split("\n"),
];

const SAMPLE = [
  "@xensource",
  "INSTALLATION_UUID='7d1c7f36-6b0b-4d0e-9a4b-0c1c2b3a4d5e'",
  "@rootdev 2049",
  "@mountinfo",
  "8:1 /",
  "8:33 /srv/data",
  "@swaps",
  "@disk sda 8:0 976773168",
  "partition sda1 8:1",
  "@disk sdc 8:32 7814037168",
  "partition sdc1 8:33",
  "@disk sde 8:64 7814037168",
  "@disk sdf 8:80 7814037168",
  "@disk sdg 8:96 7814037168",
  "@disk sdh 8:112 3907029168",
  "@disk loop10 7:10 2097152",
  "@disk loop11 7:11 0",
  "@disk dm-0 253:0 2097152",
  "@disk zram0 252:0 2097152",
  "@udevdb",
  "P: /devices/pci0000:00/block/sda",
  "E: ID_SERIAL_SHORT=BOOT1",
  "",
  "P: /devices/pci0000:00/block/sdc",
  "E: ID_SERIAL_SHORT=MOUNTED",
  "",
  "P: /devices/pci0000:00/block/sde",
  "E: ID_MODEL=ST8000VN004-2M21",
  "E: ID_MODEL_ENC=ST8000VN004-2M21\\x20\\x20\\x20",
  "E: ID_SERIAL=ST8000VN004-2M21_ZA1",
  "E: ID_SERIAL_SHORT=ZA1",
  "E: ID_WWN=0x5000c500a1b2c3d4",
  "E: DEVLINKS=/dev/disk/by-id/wwn-0x5000c500a1b2c3d4 /dev/disk/by-id/ata-ST8000VN004-2M21_ZA1",
  "",
  "P: /devices/pci0000:00/block/sdf",
  "E: ID_SERIAL_SHORT=TWIN",
  "E: ID_WWN=0x5000c500000000f1",
  "",
  "P: /devices/pci0000:00/block/sdg",
  "E: ID_SERIAL_SHORT=TWIN",
  "E: DEVLINKS=/dev/disk/by-id/usb-Enclosure_TWIN-0:0",
  "",
  "P: /devices/pci0000:00/block/sdh",
  "E: ID_MODEL=Some_Disk",
  "",
  "@xapiblock",
  "sde sde",
  "sdg sdg",
  ...ruleSection(OUR_RULE.path, OUR_RULE.text),
  ...ruleSection("/etc/udev/rules.d/90-hand.rules", HAND_RULE),
  "@end",
].join("\n");

const SR = "OpaqueRef:sr";
const vdi = (ref: string, location: string): WithRef<VdiRecord> => ({
  $ref: ref,
  uuid: `uuid-${ref}`,
  SR,
  location,
  virtual_size: "0",
  VBDs: [],
});
const vbd = (
  ref: string,
  vdiRef: string,
  vm: string,
  extra: Partial<VbdRecord> = {},
): WithRef<VbdRecord> => ({
  $ref: ref,
  uuid: `uuid-${ref}`,
  VM: vm,
  VDI: vdiRef,
  userdevice: "1",
  device: "xvdb",
  mode: "RW",
  type: "Disk",
  bootable: false,
  currently_attached: true,
  other_config: {},
  ...extra,
});
const vm = (ref: string, name: string, power_state: VmRecord["power_state"]): WithRef<VmRecord> => ({
  $ref: ref,
  uuid: `uuid-${name}`,
  name_label: name,
  power_state,
  is_control_domain: false,
  is_a_template: false,
  VBDs: [],
  HVM_boot_policy: "",
  guest_metrics: "OpaqueRef:NULL",
  resident_on: "OpaqueRef:NULL",
  affinity: "OpaqueRef:NULL",
});

/** The host's side of a look, as the CLI reads it: the SR and the records it was found in. */
const hostSide = (
  hostUuid: string,
  sr: HostSide["sr"],
  records: Pick<HostSide["snapshot"], "vdis" | "vbds" | "vms">,
): HostSide => ({
  hostUuid,
  host: { $ref: "OpaqueRef:host", uuid: hostUuid, name_label: "xen1" },
  sr,
  snapshot: { hosts: [], srs: [], pbds: [], guestMetrics: [], ...records },
});

const VIEW: HostSide = hostSide(
  "7d1c7f36-6b0b-4d0e-9a4b-0c1c2b3a4d5e",
  { ref: SR, uuid: "sr-uuid", nameLabel: "Removable storage" },
  {
    vdis: [vdi("vdi-sde", "/dev/xapi/block/sde"), vdi("vdi-sdg", "/dev/xapi/block/sdg")],
    vbds: [
      vbd("vbd-sde", "vdi-sde", "OpaqueRef:media", { other_config: { "xen-passthrough": "disk-id-1" } }),
      vbd("vbd-sdg", "vdi-sdg", "OpaqueRef:archive", {
        device: "",
        userdevice: "2",
        currently_attached: false,
      }),
    ],
    vms: [vm("OpaqueRef:media", "media-server", "Running"), vm("OpaqueRef:archive", "archive", "Halted")],
  },
);

const inventory: Dom0Inventory = parseInventory(SAMPLE);
const report = buildDiskReport("root@xen1:22", inventory, VIEW, { all: false, noSrWarning: "NO SR" });

function row(kernelName: string): DiskRow {
  const found = report.disks.find((d) => d.kernelName === kernelName);
  if (found === undefined) throw new Error(`${kernelName} not listed`);
  return found;
}

describe("buildDiskReport", () => {
  test("lists whole physical disks in natural order; skips empty and virtual devices unless --all", () => {
    expect(report.disks.map((d) => d.kernelName)).toEqual([
      "loop10",
      "sda",
      "sdc",
      "sde",
      "sdf",
      "sdg",
      "sdh",
    ]);
    const all = buildDiskReport("t", inventory, VIEW, { all: true, noSrWarning: "NO SR" });
    expect(all.disks.map((d) => d.kernelName)).toEqual(
      expect.arrayContaining(["dm-0", "zram0", "loop11", "loop10", "sda"]),
    );
  });

  test("names, size and model of a disk", () => {
    expect(row("sde")).toMatchObject({
      sizeBytes: 7814037168 * 512,
      model: "ST8000VN004-2M21",
      serial: "ZA1",
      wwn: "0x5000c500a1b2c3d4",
      byId: "ata-ST8000VN004-2M21_ZA1",
      byIds: ["ata-ST8000VN004-2M21_ZA1", "wwn-0x5000c500a1b2c3d4"],
    });
    expect(row("sdh").model).toBe("Some Disk");
  });

  test("dom0's boot disk and mounted disks are flagged with the reason", () => {
    expect(row("sda").dom0Use).toMatch(/dom0 boot disk/);
    expect(row("sdc").dom0Use).toMatch(/mounted in dom0 on \/srv\/data/);
    expect(row("sde").dom0Use).toBeUndefined();
  });

  test("a disk passed through by a PassthroughDisk: our rule, its symlink, the VM and our VBD tag", () => {
    expect(row("sde").passthrough).toEqual({
      symlinks: ["/dev/xapi/block/sde"],
      rules: [expect.objectContaining({ path: OUR_RULE.path, writtenBy: "xen-passthrough" })],
      attachments: [
        {
          vdiUuid: "uuid-vdi-sde",
          location: "/dev/xapi/block/sde",
          vbdUuid: "uuid-vbd-sde",
          vm: { uuid: "uuid-media-server", nameLabel: "media-server", powerState: "Running" },
          userdevice: "1",
          device: "xvdb",
          attached: true,
          mode: "RW",
          managedBy: "disk-id-1",
        },
      ],
    });
  });

  test("a disk passed through by hand: another's rule, a VBD without our tag", () => {
    const passthrough = row("sdg").passthrough;
    expect(passthrough?.rules).toEqual([expect.objectContaining({ writtenBy: "other" })]);
    expect(passthrough?.attachments).toHaveLength(1);
    expect(passthrough?.attachments[0]).toMatchObject({ vm: { nameLabel: "archive" }, attached: false });
    expect(passthrough?.attachments[0]?.managedBy).toBeUndefined();
  });

  test("no udev SR: a warning, and no VM can be named", () => {
    const bare = buildDiskReport("t", inventory, hostSide("h", undefined, { vdis: [], vbds: [], vms: [] }), {
      all: false,
      noSrWarning: "NO SR",
    });
    expect(bare.warnings).toEqual(["NO SR"]);
    expect(bare.removableStorageSr).toBeUndefined();
    expect(bare.disks.find((d) => d.kernelName === "sde")?.passthrough?.attachments).toEqual([]);
  });
});

describe("suggestIdentity", () => {
  const disk = (name: string) => {
    const found = inventory.disks.find((d) => d.kernelName === name);
    if (found === undefined) throw new Error(name);
    return found;
  };

  test("the serial first", () => {
    expect(suggestIdentity(inventory, disk("sde"))).toEqual({ identity: { serial: "ZA1" } });
  });

  test("a serial shared with another disk gives way to the WWN, then to a by-id name", () => {
    expect(suggestIdentity(inventory, disk("sdf"))).toEqual({ identity: { wwn: "0x5000c500000000f1" } });
    expect(suggestIdentity(inventory, disk("sdg"))).toEqual({ identity: { byId: "usb-Enclosure_TWIN-0:0" } });
  });

  test("the kernel name only as a last resort, with a warning", () => {
    const suggestion = suggestIdentity(inventory, disk("sdh"));
    expect(suggestion.identity).toEqual({ kernelName: "sdh" });
    expect(suggestion.warning).toMatch(
      /no serial, WWN or \/dev\/disk\/by-id name.*can change at the next boot/,
    );
  });
});

describe("formatting", () => {
  test("sizes in binary units", () => {
    expect(formatSize(512)).toBe("512 B");
    expect(formatSize(64 * 1024 ** 2)).toBe("64 MiB");
    expect(formatSize(7814037168 * 512)).toBe("3.6 TiB");
    expect(formatSize(1.5 * 1024 ** 3)).toBe("1.5 GiB");
  });

  test("paste lines are TypeScript object syntax", () => {
    expect(pasteLine({ serial: "ZA1" })).toBe('disk: { serial: "ZA1" }');
    expect(pasteLine({ byId: "usb-Enclosure_TWIN-0:0" })).toBe('disk: { byId: "usb-Enclosure_TWIN-0:0" }');
  });

  test("columns are aligned; the last one is not padded", () => {
    expect(
      alignColumns([
        ["A", "BB", "C"],
        ["AAA", "B", "CCCC"],
      ]),
    ).toEqual(["A    BB  C", "AAA  B   CCCC"]);
  });

  test("the table: every disk with its status, then the identities to paste", () => {
    const table = formatTable(report);
    const lines = table.split("\n");
    const header = lines.find((line) => line.startsWith("DISK"));
    expect(header).toMatch(/^DISK\s+SIZE\s+MODEL\s+SERIAL\s+WWN\s+BY-ID\s+STATUS$/);
    const statusColumn = header?.indexOf("STATUS");
    const sde = lines.find((line) => line.startsWith("sde "));
    expect(sde?.indexOf("passed through")).toBe(statusColumn);
    expect(sde).toContain('passed through to VM "media-server" (xvdb, attached, PassthroughDisk)');
    expect(table).toContain(
      'passed through to VM "archive" (userdevice 2, not attached, VBD not made by xen-passthrough) (hand-made rule /etc/udev/rules.d/90-hand.rules)',
    );
    expect(lines.find((line) => line.startsWith("sda "))).toMatch(/in use by dom0: it is the dom0 boot disk/);
    expect(lines.find((line) => line.startsWith("sdh "))).toMatch(/free$/);
    expect(table).toMatch(/^ {2}sde\s+disk: \{ serial: "ZA1" \}\s+# already passed through$/m);
    expect(table).toMatch(
      /^ {2}sda\s+disk: \{ serial: "BOOT1" \}\s+# dom0 uses it: the provider refuses it$/m,
    );
    expect(table).toMatch(/^ {2}sdh\s+disk: \{ kernelName: "sdh" \}\s+# warning: .*next boot/m);
  });

  test("JSON: every key present, null when unknown", () => {
    const document = JSON.parse(formatJson(report)) as {
      removableStorageSr: unknown;
      disks: Record<string, unknown>[];
    };
    expect(document.removableStorageSr).toEqual({ uuid: "sr-uuid", nameLabel: "Removable storage" });
    const sdh = document.disks.find((d) => d["kernelName"] === "sdh");
    expect(sdh).toEqual({
      kernelName: "sdh",
      sizeBytes: 3907029168 * 512,
      model: "Some Disk",
      serial: null,
      wwn: null,
      byId: null,
      byIds: [],
      identity: { kernelName: "sdh" },
      paste: 'disk: { kernelName: "sdh" }',
      identityWarning: expect.stringMatching(/next boot/) as unknown,
      inUseByDom0: false,
      dom0Use: null,
      passedThrough: false,
      passthrough: null,
      status: "free",
    });
    const sdg = document.disks.find((d) => d["kernelName"] === "sdg");
    expect(sdg?.["passthrough"]).toMatchObject({ attachments: [{ managedBy: null, device: "" }] });
  });
});
