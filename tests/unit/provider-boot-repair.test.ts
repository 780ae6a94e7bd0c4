// The boot repair of hosts that do not resolve symlinks (XCP-ng 8.2): its script and unit, the
// per-passthrough record, how a look judges them, what the plan, the udev round, delete and drift
// make of that. The script's behaviour at boot is tested on a sandbox host
// (tests/host/passthrough-boot-repair.test.ts); here, what can be decided without one.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BOOT_REPAIR_LOG,
  BOOT_REPAIR_MARKER_PREFIX,
  BOOT_REPAIR_RECORDS_DIR,
  BOOT_REPAIR_SCRIPT_PATH,
  BOOT_REPAIR_STATE_DIR,
  BOOT_REPAIR_UNIT,
  BOOT_REPAIR_WANTS,
  bootRepairFacts,
  identityMatchers,
  NO_BOOT_REPAIR,
  renderBootRepairRecord,
  type BootRepairFound,
} from "#provider/core/boot-repair.js";
import { planConverge, type PlanView } from "#provider/core/converge-plan.js";
import { parseInventory } from "#provider/core/dom0-inventory.js";
import { bootRepairRemoval } from "#provider/core/remove-plan.js";
import { notesOf } from "#provider/core/drift.js";
import type { DiskIdentity } from "#provider/core/inputs.js";
import { printfUnescaped } from "#provider/core/printf-escape.js";
import { ruleSelectsDisk, type DiskFacts } from "#provider/core/rule.js";
import type { ObservedState } from "#provider/core/state.js";
import { BOOT_REPAIR_MARKER, BOOT_REPAIR_SCRIPT, BOOT_REPAIR_UNIT_TEXT } from "#provider/dom0/boot-repair.js";
import { INVENTORY_SCRIPT } from "#provider/dom0/inventory.js";
import { renderManifest } from "#provider/dom0/udev-round.js";
import { inventoryAfterChange } from "#provider/lifecycle/after-apply.js";
import { udevRequestOf } from "#provider/lifecycle/dom0-request.js";
import { inputs, VM_UUID } from "./provider-plan-fixture.js";

const OWNER = "homelab/dev/nas data";
const TAG = "host-uuid:serial-S3Z1-12345678";
const wanted = inputs();

const facts = (found: BootRepairFound, needed = true) =>
  bootRepairFacts(found, {
    needed,
    marker: BOOT_REPAIR_MARKER,
    identity: wanted.disk,
    tag: TAG,
    owner: OWNER,
  });
const record = renderBootRepairRecord(wanted.disk, { tag: TAG, owner: OWNER });
const recordName = record.path.slice(BOOT_REPAIR_RECORDS_DIR.length + 1);

/** The host with this version's unit, script, link and this passthrough's record. */
const current: BootRepairFound = {
  unitMarker: BOOT_REPAIR_MARKER,
  scriptMarker: BOOT_REPAIR_MARKER,
  enabled: true,
  records: new Map([[recordName, record.text]]),
  failures: new Map(),
};

describe("the script and the unit", () => {
  test("the unit runs the script once, after xapi's init and before VMs auto-start, and is enabled by multi-user", () => {
    const lines = BOOT_REPAIR_UNIT_TEXT.split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "Type=oneshot",
        "After=xapi-init-complete.target",
        "Before=xapi-domains.service",
        `ExecStart=${BOOT_REPAIR_SCRIPT_PATH}`,
        "WantedBy=multi-user.target",
      ]),
    );
    expect(BOOT_REPAIR_WANTS).toBe(
      "/etc/systemd/system/multi-user.target.wants/xen-passthrough-boot-repair.service",
    );
    expect(BOOT_REPAIR_UNIT).toBe("/etc/systemd/system/xen-passthrough-boot-repair.service");
  });

  test("both carry one version marker, a hash of their texts", () => {
    expect(BOOT_REPAIR_MARKER).toMatch(/^[0-9a-f]{16}$/);
    expect(BOOT_REPAIR_UNIT_TEXT.split("\n")[0]).toBe(`${BOOT_REPAIR_MARKER_PREFIX}${BOOT_REPAIR_MARKER}`);
    expect(BOOT_REPAIR_SCRIPT.split("\n").slice(0, 2)).toEqual([
      "#!/bin/bash",
      `${BOOT_REPAIR_MARKER_PREFIX}${BOOT_REPAIR_MARKER}`,
    ]);
  });

  test("the script is valid bash, logs to its log file and exits with the repair's status", () => {
    expect(() => execFileSync("bash", ["-n"], { input: BOOT_REPAIR_SCRIPT })).not.toThrow();
    expect(BOOT_REPAIR_SCRIPT).toContain(`log=${BOOT_REPAIR_LOG}`);
    expect(BOOT_REPAIR_SCRIPT).toContain('} 2>&1 | tee -a "$log"\nexit "${PIPESTATUS[0]}"\n');
  });

  test("with no record the script does nothing and succeeds: no xe, no udevadm", () => {
    // Run for real with its directories moved into a temporary one: the empty case needs no host.
    const dir = mkdtempSync(join(tmpdir(), "xp-boot-repair-"));
    try {
      const script = BOOT_REPAIR_SCRIPT.replaceAll(BOOT_REPAIR_RECORDS_DIR, join(dir, "records"))
        .replaceAll(BOOT_REPAIR_STATE_DIR, join(dir, "state"))
        .replaceAll(BOOT_REPAIR_LOG, join(dir, "log"))
        .replace(
          "PATH=/opt/xensource/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          `PATH=${join(dir, "bin")}:/usr/bin:/bin`,
        );
      // xe and udevadm that fail the test if called.
      mkdirSync(join(dir, "bin"));
      for (const tool of ["xe", "udevadm"]) {
        writeFileSync(join(dir, "bin", tool), `#!/bin/sh\necho "called ${tool}" >&2\nexit 99\n`);
        chmodSync(join(dir, "bin", tool), 0o755);
      }
      mkdirSync(join(dir, "state", "pending"), { recursive: true });
      writeFileSync(
        join(dir, "state", "pending", "old-vbd"),
        "gone-record vm 1 RW false true /dev/xapi/block/sdb\n",
      );
      const output = execFileSync("bash", ["-s"], { input: script, encoding: "utf8" });
      expect(output).toMatch(/nothing to do/);
      expect(execFileSync("ls", ["-A", join(dir, "state", "pending")], { encoding: "utf8" })).toBe("");
      expect(execFileSync("cat", [join(dir, "log")], { encoding: "utf8" })).toBe(output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the record", () => {
  test("names the tag, the owner (escaped: it may hold blanks) and the disk's matchers; same inputs, same bytes", () => {
    expect(record.path).toMatch(new RegExp(`^${BOOT_REPAIR_RECORDS_DIR}/serial-S3Z1-[0-9a-f]{8}$`));
    const lines = record.text.trimEnd().split("\n");
    expect(lines.slice(1)).toEqual([
      `tag ${TAG}`,
      `owner ${lines[2]?.slice("owner ".length) ?? ""}`,
      "match E:ID_SERIAL_SHORT=S3Z1",
      "match E:ID_SERIAL=S3Z1",
    ]);
    expect(lines[2]).not.toContain(" nas data");
    expect(printfUnescaped(lines[2]?.slice("owner ".length) ?? "")).toBe(OWNER);
    expect(renderBootRepairRecord(wanted.disk, { tag: TAG, owner: OWNER })).toEqual(record);
  });

  test("names the VBD to re-create when XAPI has removed it (the VM known): VM uuid, userdevice, mode, bootable", () => {
    const vbd = {
      vmUuid: "0a1b2c3d-0000-4000-8000-000000000001",
      userdevice: "3",
      mode: "RO",
      bootable: true,
    } as const;
    const withVbd = renderBootRepairRecord(wanted.disk, { tag: TAG, owner: OWNER, vbd });
    expect(withVbd.path).toBe(record.path);
    expect(withVbd.text.split("\n")).toContain(`vbd ${vbd.vmUuid} 3 RO true`);
    // Another VM or slot is another record: the next look finds the host's one outdated.
    const found = new Map([[recordName, withVbd.text]]);
    const judged = bootRepairFacts(
      { ...current, records: found },
      {
        needed: true,
        marker: BOOT_REPAIR_MARKER,
        identity: wanted.disk,
        tag: TAG,
        owner: OWNER,
        vbd: { ...vbd, userdevice: "4" },
      },
    );
    expect(judged.status).toBe("outdated");
  });

  // The script checks a disk with the matchers; the rule selects it with ruleSelectsDisk: the two
  // must agree on every disk, or the repair would move a VBD to a disk the rule never linked.
  const disks: DiskFacts[] = [
    {
      kernelName: "sdb",
      properties: { ID_SERIAL_SHORT: "S3Z1", ID_SERIAL: "Samsung_SSD_S3Z1", ID_WWN: "0x5002538e40a1b2c3" },
      links: ["/dev/disk/by-id/ata-Samsung_SSD_S3Z1", "/dev/disk/by-id/wwn-0x5002538e40a1b2c3"],
    },
    {
      kernelName: "sdc",
      properties: { ID_SERIAL_SHORT: "S3Z2", ID_SERIAL: "S3Z1", ID_WWN_WITH_EXTENSION: "0x5002538e40a1b2c4" },
      links: ["/dev/disk/by-id/ata-S3Z1"],
    },
    { kernelName: "nvme0n1", properties: { ID_WWN: "eui.0025388b71b2c3d4" }, links: [] },
    { kernelName: "loop3", properties: {}, links: [] },
  ];
  const identities: DiskIdentity[] = [
    { serial: "S3Z1" },
    { serial: "Samsung_SSD_S3Z1" },
    { serial: "S3Z2" },
    { wwn: "5002538E40A1B2C3" },
    { wwn: "0x5002538e40a1b2c4" },
    { wwn: "eui.0025388b71b2c3d4" },
    { byId: "ata-S3Z1" },
    { byId: "wwn-0x5002538e40a1b2c3" },
    { kernelName: "loop3" },
    { kernelName: "sdd" },
  ];
  /** The script's matching (dom0/boot-repair.ts step 1), in TypeScript. */
  const scriptSelects = (identity: DiskIdentity, disk: DiskFacts) =>
    identityMatchers(identity).some((matcher) => {
      const value = matcher.slice(2);
      if (matcher.startsWith("E:")) {
        const eq = value.indexOf("=");
        return disk.properties[value.slice(0, eq)] === value.slice(eq + 1);
      }
      if (matcher.startsWith("L:")) return disk.links.includes(value);
      return disk.kernelName === value;
    });

  test.each(identities.map((identity) => [JSON.stringify(identity), identity] as const))(
    "the matchers of %s pick exactly the disks its rule selects",
    (_, identity) => {
      for (const disk of disks) expect(scriptSelects(identity, disk)).toBe(ruleSelectsDisk(identity, disk));
    },
  );
});

describe("how a look judges the boot repair", () => {
  test("a host that resolves symlinks does not need it, whatever is there", () => {
    expect(facts(NO_BOOT_REPAIR, false).status).toBe("notNeeded");
    expect(facts(current, false).status).toBe("notNeeded");
  });

  test("missing: no unit, no script, not enabled, or no record of this passthrough", () => {
    expect(facts(NO_BOOT_REPAIR)).toMatchObject({ status: "missing", hostCurrent: false, installed: false });
    expect(facts({ ...current, unitMarker: "" }).status).toBe("missing");
    expect(facts({ ...current, scriptMarker: "" }).status).toBe("missing");
    expect(facts({ ...current, enabled: false })).toMatchObject({ status: "missing", installed: true });
    expect(facts({ ...current, records: new Map() })).toMatchObject({
      status: "missing",
      hostCurrent: true,
      recordPresent: false,
    });
  });

  test("outdated: another version's unit or script, or a record that is not what this version writes", () => {
    expect(facts({ ...current, unitMarker: "0123456789abcdef" })).toMatchObject({
      status: "outdated",
      hostCurrent: false,
    });
    expect(facts({ ...current, scriptMarker: "0123456789abcdef" }).status).toBe("outdated");
    const edited = new Map([[recordName, record.text.replace("S3Z1\n", "S3Z9\n")]]);
    expect(facts({ ...current, records: edited })).toMatchObject({ status: "outdated", hostCurrent: true });
  });

  test("ok, and the last boot's failure of this passthrough only", () => {
    const failures = new Map([
      [recordName, "the SR scan failed"],
      ["serial-OTHER-00000000", "x"],
    ]);
    expect(facts({ ...current, failures })).toMatchObject({ status: "ok", failure: "the SR scan failed" });
    expect(facts(current).failure).toBeUndefined();
  });
});

describe("the plan and the udev round", () => {
  const view = (bootRepair: PlanView["bootRepair"]): PlanView => ({
    disk: { kernelName: "sdb" },
    ruleText: undefined,
    otherRules: [],
    symlinkPresent: false,
    hostUuid: "host-uuid",
    hostName: "xcp1",
    diskProblem: undefined,
    diskUse: undefined,
    sr: { ref: "OpaqueRef:sr" },
    vdi: undefined,
    vm: {
      uuid: VM_UUID,
      powerState: "Halted",
      isControlDomain: false,
      hvm: false,
      canHotplug: true,
      residentOnUuid: "",
      residentOnName: "",
      affinityUuid: "",
    },
    vbd: undefined,
    otherVbds: [],
    owner: OWNER,
    previousOwner: undefined,
    claimKey: undefined,
    claimOwner: undefined,
    foreignOwner: undefined,
    misplacedVbds: [],
    vbdOtherDisk: undefined,
    wantedNaming: "kernelName",
    symlinkNaming: "kernelName",
    bootRepair,
  });
  const repairOf = (bootRepair: PlanView["bootRepair"]) =>
    planConverge(view(bootRepair), wanted).dom0?.bootRepair;

  test("a first passthrough on such a host installs everything, in the dom0 change, before XAPI's steps", () => {
    const plan = planConverge(view(facts(NO_BOOT_REPAIR)), wanted);
    expect(plan.dom0?.bootRepair).toEqual({ recordName, writeRecord: record.text, installUnit: true });

    const request = udevRequestOf(plan.dom0!);
    // The script before the unit, the unit before the link that enables it.
    expect(request.installs).toEqual([
      { path: record.path, text: record.text, executable: false },
      { path: BOOT_REPAIR_SCRIPT_PATH, text: BOOT_REPAIR_SCRIPT, executable: true },
      { path: BOOT_REPAIR_UNIT, text: BOOT_REPAIR_UNIT_TEXT, executable: false },
    ]);
    expect(request.links).toEqual([{ path: BOOT_REPAIR_WANTS, target: BOOT_REPAIR_UNIT }]);
    const manifest = renderManifest([request]).split("\n");
    expect(
      manifest.filter((line) => line.startsWith("0 install ")).map((line) => line.split(" ")[3]),
    ).toEqual(["644", "755", "644"]);
    expect(manifest).toContain(`0 link ${BOOT_REPAIR_WANTS} ${BOOT_REPAIR_UNIT}`);
  });

  test("another passthrough on a host that has the current unit writes its record only", () => {
    const repair = repairOf(facts({ ...current, records: new Map() }));
    expect(repair).toEqual({ recordName, writeRecord: record.text });
    expect(udevRequestOf({ bootRepair: repair! }).links).toBeUndefined();
  });

  test("nothing when it is current, or not needed", () => {
    expect(repairOf(facts(current))).toBeUndefined();
    expect(repairOf(facts(NO_BOOT_REPAIR, false))).toBeUndefined();
  });

  test("the host after the round has what the change installed: the next look finds it current", () => {
    const plan = planConverge(view(facts(NO_BOOT_REPAIR)), wanted);
    const inventory = parseInventory("@xensource\nINSTALLATION_UUID='host-uuid'\n@end\n");
    const after = inventoryAfterChange(inventory, plan.dom0!);
    expect(facts(after.bootRepair).status).toBe("ok");
  });
});

describe("delete", () => {
  test("removes this passthrough's record and failure note, and the unit once no claim is left", () => {
    const failing = facts({ ...current, failures: new Map([[recordName, "x"]]) });
    const removal = bootRepairRemoval({ bootRepair: failing, foreignOwner: undefined });
    expect(removal).toEqual({
      recordName,
      removeRecord: true,
      removeFailureNote: true,
      removeUnitWhenUnclaimed: true,
    });
    expect(udevRequestOf({ bootRepair: removal! })).toEqual({
      removes: [record.path, `${BOOT_REPAIR_STATE_DIR}/failed/${recordName}`],
      // The link first: a boot between two removals runs nothing.
      removeWhenUnclaimed: [BOOT_REPAIR_WANTS, BOOT_REPAIR_UNIT, BOOT_REPAIR_SCRIPT_PATH],
    });
  });

  test("leaves another owner's record, and removes nothing of a unit that is not there", () => {
    expect(bootRepairRemoval({ bootRepair: facts(current), foreignOwner: "someone/else" })).toEqual({
      recordName,
      removeUnitWhenUnclaimed: true,
    });
    expect(bootRepairRemoval({ bootRepair: facts(NO_BOOT_REPAIR), foreignOwner: undefined })).toBeUndefined();
  });
});

describe("drift", () => {
  const observed = (extra: Partial<ObservedState>): ObservedState => ({
    ruleStatus: "ok",
    diskPresent: true,
    kernelName: "sdb",
    symlinkPresent: true,
    vdiPresent: true,
    vbdPresent: true,
    vbdOnCurrentVdi: true,
    vbdAttached: false,
    vbdMode: "RW",
    vbdUserdevice: "1",
    vbdBootable: false,
    vmPresent: true,
    vmPowerState: "Running",
    vmCanHotplug: true,
    vmResidentOn: "host-uuid",
    vmOnDiskHost: true,
    vmAffinityOnDiskHost: false,
    ...extra,
  });
  // Missing and outdated are what the next up installs: provider-drift.test.ts reads them from the plan.
  const notes = (extra: Partial<ObservedState>) => notesOf(observed(extra), inputs({ attach: false }));

  test("a failure at boot is noted while the VBD is not right, with the reason and the log", () => {
    const failed = {
      bootRepair: "ok",
      bootRepairFailure: "the SR scan failed: VBD of VM x not re-created",
    } as const;
    const [message, ...more] = notes({ ...failed, vbdPresent: false });
    expect(more).toEqual([]);
    expect(message).toContain("the boot repair failed for this disk at the last boot: the SR scan failed");
    expect(message).toContain(BOOT_REPAIR_LOG);
    // Once up has made the VBD again, the old failure is no longer news.
    expect(notes(failed)).toEqual([]);
    expect(notes({ bootRepair: "missing" })).toEqual([]);
  });
});

describe("INVENTORY_SCRIPT on this machine", () => {
  test("reports markers, the link, records byte for byte and failures, from where they are", () => {
    const dir = mkdtempSync(join(tmpdir(), "xp-boot-inventory-"));
    const at = (path: string) => join(dir, path);
    try {
      for (const path of [
        BOOT_REPAIR_RECORDS_DIR,
        `${BOOT_REPAIR_STATE_DIR}/failed`,
        "/opt/xen-passthrough",
      ]) {
        mkdirSync(at(path), { recursive: true });
      }
      mkdirSync(at("/etc/systemd/system/multi-user.target.wants"), { recursive: true });
      writeFileSync(at(BOOT_REPAIR_UNIT), BOOT_REPAIR_UNIT_TEXT);
      writeFileSync(at(BOOT_REPAIR_SCRIPT_PATH), BOOT_REPAIR_SCRIPT, { mode: 0o755 });
      symlinkSync(BOOT_REPAIR_UNIT, at(BOOT_REPAIR_WANTS));
      writeFileSync(at(record.path), record.text);
      writeFileSync(at(`${BOOT_REPAIR_RECORDS_DIR}/odd`), "no final newline\n|@end");
      writeFileSync(at(`${BOOT_REPAIR_STATE_DIR}/failed/${recordName}`), "the SR scan failed: x\n");
      let script = INVENTORY_SCRIPT;
      for (const path of [
        BOOT_REPAIR_UNIT,
        BOOT_REPAIR_SCRIPT_PATH,
        BOOT_REPAIR_WANTS,
        BOOT_REPAIR_RECORDS_DIR,
        BOOT_REPAIR_STATE_DIR,
      ]) {
        script = script.replaceAll(path, at(path));
      }
      const found = parseInventory(
        execFileSync("bash", ["-s"], { input: script, encoding: "utf8" }),
      ).bootRepair;
      expect(found).toEqual({
        unitMarker: BOOT_REPAIR_MARKER,
        scriptMarker: BOOT_REPAIR_MARKER,
        enabled: true,
        records: new Map([
          [recordName, record.text],
          ["odd", "no final newline\n|@end"],
        ]),
        failures: new Map([[recordName, "the SR scan failed: x"]]),
      });
      // A script that is not executable does not count.
      chmodSync(at(BOOT_REPAIR_SCRIPT_PATH), 0o644);
      const again = parseInventory(
        execFileSync("bash", ["-s"], { input: script, encoding: "utf8" }),
      ).bootRepair;
      expect(again.scriptMarker).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
