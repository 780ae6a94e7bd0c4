// The udev rule: golden text, one block of match lines per identity kind, and recognition of
// ours (as rendered or edited) and of others' rules for the same disk.
import {
  conflictingRules,
  renderRule,
  ruleIdentity,
  rulePath,
  ruleSelectsDisk,
  ruleSlug,
  ruleStatus,
  symlinkPath,
  type DiskFacts,
} from "#provider/core/rule.js";

const GOLDEN_SERIAL = `# Managed by pulumi-xen-passthrough (PassthroughDisk). Do not edit: \`pulumi up\` rewrites it,
# \`pulumi destroy\` removes it.
# Gives the whole disk with serial S3Z1NB0K123456X the symlink /dev/xapi/block/<kernel name>,
# so the udev SR (Removable storage) shows it as a VDI.
# pulumi-xen-passthrough rule v1: serial=S3Z1NB0K123456X
SUBSYSTEM!="block", GOTO="xen_passthrough_d4d23b6d_end"
ENV{DEVTYPE}!="disk", GOTO="xen_passthrough_d4d23b6d_end"
ENV{ID_SERIAL_SHORT}=="S3Z1NB0K123456X", GOTO="xen_passthrough_d4d23b6d_match"
ENV{ID_SERIAL}=="S3Z1NB0K123456X", GOTO="xen_passthrough_d4d23b6d_match"
GOTO="xen_passthrough_d4d23b6d_end"
LABEL="xen_passthrough_d4d23b6d_match"
ACTION=="add|change", SYMLINK+="xapi/block/%k"
ACTION=="add", RUN+="/bin/sh -c '/opt/xensource/libexec/local-device-change %k >/dev/null 2>&1 &'"
ACTION=="remove", RUN+="/bin/sh -c '/opt/xensource/libexec/local-device-change %k >/dev/null 2>&1 &'"
LABEL="xen_passthrough_d4d23b6d_end"
`;

const identities = [
  { serial: "S3Z1NB0K123456X" },
  { wwn: "0x5000c500a1b2c3d4" },
  { byId: "ata-Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456X" },
  { kernelName: "nvme0n1" },
] as const;

/** Lines that decide which device the rule selects (everything before LABEL="..._match"). */
function matchLines(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.includes('GOTO="xen_passthrough_') && line.endsWith('_match"'))
    .map((line) => line.replace(/, GOTO=.*$/, ""));
}

describe("renderRule", () => {
  test("golden text and path for a serial", () => {
    const rule = renderRule({ serial: "S3Z1NB0K123456X" });
    expect(rule.path).toBe("/etc/udev/rules.d/65-xen-passthrough-serial-S3Z1NB0K123456X-d4d23b6d.rules");
    expect(rule.text).toBe(GOLDEN_SERIAL);
  });

  test("each identity kind matches on its own stable property", () => {
    expect(matchLines(renderRule(identities[0]).text)).toEqual([
      'ENV{ID_SERIAL_SHORT}=="S3Z1NB0K123456X"',
      'ENV{ID_SERIAL}=="S3Z1NB0K123456X"',
    ]);
    expect(matchLines(renderRule(identities[1]).text)).toEqual([
      'ENV{ID_WWN}=="0x5000c500a1b2c3d4"',
      'ENV{ID_WWN_WITH_EXTENSION}=="0x5000c500a1b2c3d4"',
    ]);
    const link = "/dev/disk/by-id/ata-Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456X";
    expect(matchLines(renderRule(identities[2]).text)).toEqual([
      'SYMLINK=="disk/by-id/ata-Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456X"',
      `ENV{DEVLINKS}=="${link}"`,
      `ENV{DEVLINKS}=="${link} *"`,
      `ENV{DEVLINKS}=="* ${link}"`,
      `ENV{DEVLINKS}=="* ${link} *"`,
    ]);
    expect(matchLines(renderRule(identities[3]).text)).toEqual(['KERNEL=="nvme0n1"']);
  });

  test("a WWN without 0x is matched the way udev spells it", () => {
    expect(matchLines(renderRule({ wwn: "5000C500A1B2C3D4" }).text)[0]).toBe(
      'ENV{ID_WWN}=="0x5000c500a1b2c3d4"',
    );
    expect(matchLines(renderRule({ wwn: "eui.0025388b71b1d5a5" }).text)[0]).toBe(
      'ENV{ID_WWN}=="eui.0025388b71b1d5a5"',
    );
  });

  test.each(identities)(
    "%j: whole disks only, symlink on add|change, stock-style RUN on add and remove",
    (identity) => {
      const lines = renderRule(identity)
        .text.split("\n")
        .filter((line) => line !== "" && !line.startsWith("#"));
      expect(lines[0]).toMatch(/^SUBSYSTEM!="block", GOTO=/);
      expect(lines[1]).toMatch(/^ENV\{DEVTYPE\}!="disk", GOTO=/);
      const symlinkLines = lines.filter((line) => line.includes("SYMLINK+="));
      expect(symlinkLines).toEqual(['ACTION=="add|change", SYMLINK+="xapi/block/%k"']);
      const runLines = lines.filter((line) => line.includes("RUN+="));
      expect(runLines.map((line) => line.split(",")[0])).toEqual(['ACTION=="add"', 'ACTION=="remove"']);
      for (const line of runLines)
        expect(line).toContain("/opt/xensource/libexec/local-device-change %k >/dev/null 2>&1 &");
      // Kernel-name matching only when the kernel name IS the identity; never the *[0-9] heuristic.
      expect(lines.some((line) => line.includes("KERNEL"))).toBe("kernelName" in identity);
      expect(renderRule(identity).text).not.toContain("*[0-9]");
    },
  );

  test("labels are unique per identity, so two of our rules never jump into each other", () => {
    const labels = identities.map((identity) => /LABEL="([^"]+)_match"/.exec(renderRule(identity).text)?.[1]);
    expect(new Set(labels).size).toBe(identities.length);
  });

  test("rendering is deterministic", () => {
    expect(renderRule({ byId: "x-1" })).toEqual(renderRule({ byId: "x-1" }));
  });
});

describe("ruleSlug and paths", () => {
  test("safe characters only, and distinct for identities that differ only in case or punctuation", () => {
    const slugs = [
      { serial: "ABC" },
      { serial: "abc" },
      { serial: "a:b" },
      { serial: "a+b" },
      { byId: "abc" },
    ].map(ruleSlug);
    for (const slug of slugs) expect(slug).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(new Set(slugs).size).toBe(slugs.length);
  });

  test("long identities give bounded file names", () => {
    expect(rulePath({ serial: "S".repeat(200) }).length).toBeLessThan(120);
  });

  test("symlinkPath", () => {
    expect(symlinkPath("sdb")).toBe("/dev/xapi/block/sdb");
  });
});

describe("recognizing rules", () => {
  test.each(identities)("ruleIdentity reads back %j from our rule", (identity) => {
    expect(ruleIdentity(renderRule(identity).text)).toEqual(identity);
  });

  test("ruleIdentity: undefined for a hand-made rule", () => {
    expect(ruleIdentity('KERNEL=="sdb", SYMLINK+="xapi/block/%k"\n')).toBeUndefined();
  });

  test("ruleStatus: ok as rendered, missing, edited", () => {
    const identity = { serial: "S1" };
    const text = renderRule(identity).text;
    expect(ruleStatus(text, identity)).toBe("ok");
    expect(ruleStatus(undefined, identity)).toBe("missing");
    expect(ruleStatus(text.replace('ACTION=="add|change"', 'ACTION=="add"'), identity)).toBe("edited");
    expect(ruleStatus(`${text}# note\n`, identity)).toBe("edited");
    expect(ruleStatus(renderRule({ serial: "S2" }).text, identity)).toBe("edited");
  });
});

describe("ruleSelectsDisk mirrors the rendered conditions", () => {
  const disk: DiskFacts = {
    kernelName: "sdb",
    properties: { ID_SERIAL: "Samsung_SSD_860_S3Z1", ID_SERIAL_SHORT: "S3Z1", ID_WWN: "0x5002538e40a1b2c3" },
    links: ["/dev/disk/by-id/ata-Samsung_SSD_860_S3Z1", "/dev/disk/by-id/wwn-0x5002538e40a1b2c3"],
  };
  test.each([
    [{ serial: "S3Z1" }, true],
    [{ serial: "Samsung_SSD_860_S3Z1" }, true],
    [{ serial: "S3Z" }, false],
    [{ wwn: "0x5002538e40a1b2c3" }, true],
    [{ wwn: "5002538E40A1B2C3" }, true],
    [{ wwn: "0x5002538e40a1b2c4" }, false],
    [{ byId: "ata-Samsung_SSD_860_S3Z1" }, true],
    [{ byId: "ata-Samsung_SSD_860_S3Z" }, false],
    [{ kernelName: "sdb" }, true],
    [{ kernelName: "sdc" }, false],
  ])("%j -> %s", (identity, selected) => {
    expect(ruleSelectsDisk(identity, disk)).toBe(selected);
  });
});

describe("conflictingRules", () => {
  const disk: DiskFacts = {
    kernelName: "sdb",
    properties: { ID_SERIAL: "WDC_WD40_WD-WCC4N0ABC", ID_SERIAL_SHORT: "WD-WCC4N0ABC" },
    links: ["/dev/disk/by-id/ata-WDC_WD40_WD-WCC4N0ABC"],
  };
  const own = renderRule({ serial: "WD-WCC4N0ABC" });
  const stock = [
    'SUBSYSTEM!="block", GOTO="end_xapi"',
    'KERNEL=="*[0-9]", GOTO="end_xapi"',
    'SUBSYSTEMS=="usb", GOTO="usb_symlink"',
    'LABEL="usb_symlink"',
    'ACTION=="add|change", SYMLINK+="xapi/block/%k"',
    'LABEL="end_xapi"',
  ].join("\n");

  test("our own rule and the stock rules are no conflict", () => {
    const rules = new Map([
      [own.path, own.text],
      ["/etc/udev/rules.d/58-xapi.rules", stock],
    ]);
    expect(conflictingRules(rules, disk, own.path)).toEqual([]);
  });

  test("another PassthroughDisk's rule that selects the same disk by another identity", () => {
    const other = renderRule({ byId: "ata-WDC_WD40_WD-WCC4N0ABC" });
    const rules = new Map([[other.path, other.text]]);
    expect(conflictingRules(rules, disk, own.path)).toEqual([
      {
        path: other.path,
        writtenBy: "xen-passthrough",
        identity: { byId: "ata-WDC_WD40_WD-WCC4N0ABC" },
        evidence: "its rule is for /dev/disk/by-id/ata-WDC_WD40_WD-WCC4N0ABC",
      },
    ]);
  });

  test("another PassthroughDisk's rule for another disk is no conflict", () => {
    const other = renderRule({ serial: "SOMETHING-ELSE" });
    expect(conflictingRules(new Map([[other.path, other.text]]), disk, own.path)).toEqual([]);
  });

  test.each([
    ['KERNEL=="sdb", SUBSYSTEM=="block", ACTION=="add", SYMLINK+="xapi/block/%k"', 'matches KERNEL "sdb"'],
    [
      'ACTION=="add|change", ENV{ID_SERIAL}=="WDC_WD40_WD-WCC4N0ABC", SYMLINK+="xapi/block/%k"',
      'matches ENV{ID_SERIAL} "WDC_WD40_WD-WCC4N0ABC"',
    ],
    [
      'ENV{ID_SERIAL_SHORT}=="WD-WCC4N0*", SYMLINK+="xapi/block/%k"',
      'matches ENV{ID_SERIAL_SHORT} "WD-WCC4N0*"',
    ],
    ['KERNEL=="sdb|sdc", SYMLINK+="xapi/block/%k"', 'matches KERNEL "sdb|sdc"'],
  ])("a hand-made rule: %s", (line, evidence) => {
    const rules = new Map([["/etc/udev/rules.d/99-passthrough.rules", `# my disks\n${line}\n`]]);
    expect(conflictingRules(rules, disk, own.path)).toEqual([
      { path: "/etc/udev/rules.d/99-passthrough.rules", writtenBy: "other", evidence },
    ]);
  });

  test("hand-made rules for other disks, or without a xapi/block symlink, are no conflict", () => {
    const rules = new Map([
      ["/etc/udev/rules.d/99-a.rules", 'KERNEL=="sdc", SYMLINK+="xapi/block/%k"\n'],
      ["/etc/udev/rules.d/99-b.rules", 'KERNEL=="sdb", SYMLINK+="mydisk"\n'],
      ["/etc/udev/rules.d/99-c.rules", '# KERNEL=="sdb", SYMLINK+="xapi/block/%k"\n'],
    ]);
    expect(conflictingRules(rules, disk, own.path)).toEqual([]);
  });
});
