// Stable symlink names (issue 12): the name form, its safety for every identity the inputs allow,
// and the two forms of the rule.
import { checkInputs } from "#provider/core/check.js";
import {
  KERNEL_NAME_RULE_FORMAT_VERSION,
  renderRule,
  ruleIdentity,
  ruleNaming,
  RULE_FORMAT_VERSION,
  ruleStatus,
  stableSymlinkName,
  symlinkName,
  symlinkNamingFor,
} from "#provider/core/rule.js";

describe("stableSymlinkName", () => {
  test.each([
    [{ serial: "ZS4A1234" }, "xp-serial-ZS4A1234"],
    [{ wwn: "0x5000c500a1b2c3d4" }, "xp-wwn-0x5000c500a1b2c3d4"],
    [{ byId: "ata-ST8000_ZA1" }, "xp-byid-ata-ST8000_ZA1"],
  ])("%j is named %s", (identity, name) => {
    expect(stableSymlinkName(identity)).toBe(name);
  });

  test("a kernel name has no stable name: it stays the kernel name", () => {
    expect(stableSymlinkName({ kernelName: "sdb" })).toBeUndefined();
    expect(symlinkName({ kernelName: "sdb" }, "sdb", "stable")).toBe("sdb");
    expect(symlinkNamingFor({ kernelName: "sdb" }, true)).toBe("kernelName");
  });

  // The longest and oddest values each pattern accepts (core/patterns.ts), checked by check itself.
  const extremes = [
    { serial: `A${"_.:@+=-".repeat(28)}Z`.slice(0, 200) },
    { serial: "a" },
    { wwn: `nvme.${"a.b:c-d_".repeat(25)}` },
    { wwn: "0x" + "F".repeat(32) },
    { byId: `n${"vme-eui.0025388b91b2c3d4".repeat(9)}`.slice(0, 200) },
  ];

  test.each(extremes)("%j: accepted by check, and a safe file name and udev SYMLINK value", (identity) => {
    const { failures } = checkInputs(
      {},
      { connection: { host: "h", password: "p" }, disk: identity, vm: { nameLabel: "v" } },
    );
    expect(failures).toEqual([]);
    const name = stableSymlinkName(identity) ?? "";
    // udev keeps these in SYMLINK values (util_replace_chars: digits, letters, "#+-.:=@_"); no "/".
    expect(name).toMatch(/^[A-Za-z0-9_.:@+=-]+$/);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(name).not.toMatch(/^\.\.?$/);
    // Never a kernel name (those are lowercase letters and digits only).
    expect(name).not.toMatch(/^[a-z][a-z0-9]*$/);
  });

  test("injective: identities that differ in kind, case or punctuation get different names", () => {
    const identities = [
      { serial: "abc" },
      { serial: "ABC" },
      { serial: "a-bc" },
      { byId: "abc" },
      { wwn: "0xabcdefabcdefabcd" },
      { wwn: "abcdefabcdefabcd" },
      { serial: "wwn-abc" },
      { byId: "serial-abc" },
    ];
    const names = identities.map(stableSymlinkName);
    expect(new Set(names).size).toBe(identities.length);
  });
});

describe("the two forms of the rule", () => {
  const identity = { serial: "S3Z1NB0K123456X" };
  const stable = renderRule(identity, "homelab/dev/nas", "stable").text;
  const kernel = renderRule(identity, "homelab/dev/nas").text;

  test("stable: the symlink is the stable name, and no local-device-change runs", () => {
    expect(stable).toContain('ACTION=="add|change", SYMLINK+="xapi/block/xp-serial-S3Z1NB0K123456X"\n');
    expect(stable).not.toContain("RUN+=");
    expect(stable).not.toContain("%k");
    expect(stable).toContain(
      `# pulumi-xen-passthrough rule v${RULE_FORMAT_VERSION}: serial=S3Z1NB0K123456X\n`,
    );
    expect(RULE_FORMAT_VERSION).toBe(2);
  });

  test("kernel name: the text earlier versions wrote, unchanged (rules on 8.2 hosts are not rewritten)", () => {
    expect(kernel).toContain('ACTION=="add|change", SYMLINK+="xapi/block/%k"\n');
    expect(kernel).toContain("local-device-change %k");
    expect(kernel).toContain(`rule v${KERNEL_NAME_RULE_FORMAT_VERSION}: serial=`);
    expect(KERNEL_NAME_RULE_FORMAT_VERSION).toBe(1);
    expect(renderRule(identity, "homelab/dev/nas", "kernelName").text).toBe(kernel);
  });

  test("both are recognized as ours, with their naming, and each is ok in its own form", () => {
    expect(ruleIdentity(stable)).toEqual(identity);
    expect(ruleNaming(stable)).toBe("stable");
    expect(ruleNaming(kernel)).toBe("kernelName");
    expect(ruleStatus(stable, identity, "homelab/dev/nas")).toBe("ok");
    expect(ruleStatus(kernel, identity, "homelab/dev/nas")).toBe("ok");
    expect(ruleStatus(stable.replace("xp-serial-", "xp-"), identity, "homelab/dev/nas")).toBe("edited");
  });

  test("which naming a host gets: stable only where its udev SR resolves symlinks", () => {
    expect(symlinkNamingFor(identity, true)).toBe("stable");
    expect(symlinkNamingFor(identity, false)).toBe("kernelName");
    expect(symlinkName(identity, "sdb", "stable")).toBe("xp-serial-S3Z1NB0K123456X");
    expect(symlinkName(identity, "sdb", "kernelName")).toBe("sdb");
  });
});
