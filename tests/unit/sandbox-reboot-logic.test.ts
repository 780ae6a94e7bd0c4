// Pure parts of a host reboot: boot unit files as systemd reads them, the order units run in,
// ExecStart= splitting, which kernel name each disk comes back under, and dom0's fake rpm.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import {
  bootUnitOf,
  orderBootUnits,
  parseExecStart,
  parseUnitFile,
  runsBetweenInitAndDomains,
  startTimeoutOf,
  SYSTEMD_SERVICE_PATH,
} from "xen-sandbox/dist/dom0/boot-units";
import type { BootUnit } from "xen-sandbox/dist/dom0/boot-units";
import { planBootNames } from "xen-sandbox/dist/dom0/reboot-plan";
import { renderRpm } from "xen-sandbox/dist/dom0/tools/scripts";

const REPAIR_UNIT = `# a comment
[Unit]
Description=Repair passthrough disks
After=xapi-init-complete.target
Before=xapi-domains.service

[Service]
Type=oneshot
ExecStart=/opt/xen-passthrough/boot-repair --quiet
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
`;

describe("unit files", () => {
  test("sections hold their settings; repeated keys add up and an empty one resets the list", () => {
    const sections = parseUnitFile(
      "[Unit]\nAfter=a.target\n; note\nAfter=b.service c.service\n[Service]\nExecStart=/bin/x \\\n  --flag\nEnvironment=A=1\nEnvironment=\n",
    );
    expect(sections.get("Unit")?.get("After")).toEqual(["a.target", "b.service c.service"]);
    expect(sections.get("Service")?.get("ExecStart")).toEqual(["/bin/x    --flag"]);
    expect(sections.get("Service")?.get("Environment")).toEqual([]);
  });

  test("a repair unit is read with both orderings, its type and its command", () => {
    const unit = bootUnitOf("xen-passthrough-boot-repair.service", REPAIR_UNIT);
    expect(unit).toEqual({
      name: "xen-passthrough-boot-repair.service",
      type: "oneshot",
      after: ["xapi-init-complete.target"],
      before: ["xapi-domains.service"],
      execStart: ["/opt/xen-passthrough/boot-repair --quiet"],
      startTimeoutMs: undefined,
    });
    expect(runsBetweenInitAndDomains(unit)).toBe(true);
  });

  test("a oneshot unit has no start timeout unless it names one; other types get 90 s", () => {
    expect(startTimeoutOf("oneshot", undefined)).toBeUndefined();
    expect(startTimeoutOf("simple", undefined)).toBe(90_000);
    expect(startTimeoutOf("oneshot", "20")).toBe(20_000);
    expect(startTimeoutOf("oneshot", "2min")).toBe(120_000);
    expect(startTimeoutOf("simple", "0")).toBeUndefined();
    expect(startTimeoutOf("simple", "infinity")).toBeUndefined();
    expect(startTimeoutOf("simple", "soon")).toBe(90_000);
    const timed = bootUnitOf(
      "t.service",
      "[Service]\nType=oneshot\nTimeoutStartSec=5s\nExecStart=/bin/true\n",
    );
    expect(timed.startTimeoutMs).toBe(5_000);
  });

  test("a boot unit's PATH is systemd's own: XAPI's bin directory is not on it", () => {
    expect(SYSTEMD_SERVICE_PATH.split(":")).not.toContain("/opt/xensource/bin");
    expect(SYSTEMD_SERVICE_PATH.split(":")).toContain("/usr/bin");
  });

  test("a unit missing either ordering does not run between init-complete and auto-start", () => {
    const afterOnly = bootUnitOf(
      "a.service",
      "[Unit]\nAfter=xapi-init-complete.target\n[Service]\nExecStart=/bin/true\n",
    );
    const beforeOnly = bootUnitOf(
      "b.service",
      "[Unit]\nBefore=xapi-domains.service\n[Service]\nExecStart=/bin/true\n",
    );
    const inService = bootUnitOf(
      "c.service",
      "[Service]\nAfter=xapi-init-complete.target\nBefore=xapi-domains.service\nExecStart=/bin/true\n",
    );
    expect([afterOnly, beforeOnly, inService].map(runsBetweenInitAndDomains)).toEqual([false, false, false]);
  });
});

describe("the order boot units run in", () => {
  const unit = (name: string, after: string[] = [], before: string[] = []): BootUnit => ({
    name,
    type: "oneshot",
    after,
    before,
    execStart: [],
    startTimeoutMs: undefined,
  });

  test("unordered units run by name", () => {
    const names = orderBootUnits([unit("c.service"), unit("a.service"), unit("b.service")]).map(
      (u) => u.name,
    );
    expect(names).toEqual(["a.service", "b.service", "c.service"]);
  });

  test("After= and Before= between them win over names", () => {
    const ordered = orderBootUnits([
      unit("a.service", ["z.service"]),
      unit("m.service", [], ["a.service"]),
      unit("z.service"),
    ]).map((u) => u.name);
    expect(ordered.indexOf("z.service")).toBeLessThan(ordered.indexOf("a.service"));
    expect(ordered.indexOf("m.service")).toBeLessThan(ordered.indexOf("a.service"));
    expect(ordered).toHaveLength(3);
  });

  test("a cycle still runs every unit once", () => {
    const ordered = orderBootUnits([unit("a.service", ["b.service"]), unit("b.service", ["a.service"])]);
    expect(ordered.map((u) => u.name).sort()).toEqual(["a.service", "b.service"]);
  });
});

describe("ExecStart=", () => {
  test("splits words, honours quotes and the '-' prefix", () => {
    expect(parseExecStart(`-/opt/x/run "two words" 'single quoted' plain`)).toEqual({
      argv: ["/opt/x/run", "two words", "single quoted", "plain"],
      ignoreFailure: true,
    });
    expect(parseExecStart("/bin/true")).toEqual({ argv: ["/bin/true"], ignoreFailure: false });
  });

  test("a relative program or an empty line is refused, as systemd 219 refuses the unit", () => {
    expect(parseExecStart("boot-repair")).toEqual({ error: "Executable path is not absolute: boot-repair" });
    expect(parseExecStart("  ")).toEqual({ error: "ExecStart= is empty" });
  });
});

describe("kernel names after a reboot", () => {
  const disks = [
    { serial: "A", kernelName: "loop4" },
    { serial: "B", kernelName: "loop5" },
    { serial: "C", kernelName: "" },
    { serial: "D", kernelName: "loop6" },
  ];

  test("two disks swap, asked-for names first; a disk not named keeps its name", () => {
    expect(planBootNames(disks, { A: "loop5", B: "loop4" }, new Set())).toEqual({
      plan: [
        { serial: "A", kernelName: "loop5", required: true },
        { serial: "B", kernelName: "loop4", required: true },
        { serial: "D", kernelName: "loop6", required: false },
      ],
    });
  });

  test("a disk whose old name another disk asked for takes any free one", () => {
    expect(planBootNames(disks, { A: "loop6" }, new Set())).toEqual({
      plan: [
        { serial: "A", kernelName: "loop6", required: true },
        { serial: "B", kernelName: "loop5", required: false },
        { serial: "D", kernelName: undefined, required: false },
      ],
    });
  });

  test("every bad request is refused with its reason", () => {
    const refused = planBootNames(
      disks,
      { X: "loop9", C: "loop10", A: "sdb", B: "loop7", D: "loop7" },
      new Set(["loop7"]),
    );
    expect(refused).toEqual({
      errors: [
        "no disk has serial X (known: A, B, C, D)",
        "disk C is unplugged: it cannot come back at a reboot",
        'kernel name "sdb" for A is not a loop device name (loopN)',
        "kernel name loop7 for B is taken by another loop disk",
        "kernel name loop7 is asked for both B and D",
        "kernel name loop7 for D is taken by another loop disk",
      ],
    });
  });
});

describe("dom0's rpm", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "xp-rpm-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function rpm(version: string, product: string, ...args: string[]) {
    const path = join(dir, `rpm-${version}`);
    writeFileSync(path, renderRpm(version, product));
    chmodSync(path, 0o755);
    const result = spawnSync(path, args, { encoding: "utf8" });
    return { stdout: result.stdout, stderr: result.stderr, status: result.status };
  }

  test("answers the version query the provider sends, for either sm", () => {
    expect(rpm("3.2.3", "8.3.0", "-q", "--qf", "%{VERSION}\\n", "sm")).toEqual({
      stdout: "3.2.3\n",
      stderr: "",
      status: 0,
    });
    expect(rpm("2.30.8", "8.2.1", "-q", "--qf", "%{VERSION}\\n", "sm").stdout).toBe("2.30.8\n");
    expect(rpm("2.30.8", "8.2.1", "-q", "sm").stdout).toBe("sm-2.30.8-1.xcpng8.2.x86_64\n");
    expect(rpm("3.2.3", "8.3.0", "--queryformat=%{NAME} %{VERSION} %{EPOCH}\\n", "-q", "sm").stdout).toBe(
      "sm 3.2.3 (none)\n",
    );
  });

  test("any other package is not installed, exit 1, as rpm 4.11 says", () => {
    expect(rpm("3.2.3", "8.3.0", "-q", "--qf", "%{VERSION}\\n", "blktap")).toEqual({
      stdout: "package blktap is not installed\n",
      stderr: "",
      status: 1,
    });
    expect(rpm("3.2.3", "8.3.0", "-q", "sm", "nope").stdout).toBe(
      "sm-3.2.3-1.xcpng8.3.x86_64\npackage nope is not installed\n",
    );
  });

  test("what it does not simulate fails loudly", () => {
    expect(rpm("3.2.3", "8.3.0", "-qa").status).toBe(1);
    expect(rpm("3.2.3", "8.3.0", "-i", "x.rpm").stderr).toMatch(/not simulated/);
    // The script is plain POSIX sh, as dom0's /bin/sh (bash 4.2) runs it.
    expect(() => execFileSync("sh", ["-n", join(dir, "rpm-3.2.3")])).not.toThrow();
  });
});
