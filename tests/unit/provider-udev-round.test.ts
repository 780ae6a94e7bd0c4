import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  UDEV_ROUND_SCRIPT,
  parseOutcomes,
  printfEscaped,
  renderManifest,
} from "#provider/dom0/udev-round.js";
import { udevRequestOf } from "#provider/lifecycle/dom0-request.js";

const RULE = "/etc/udev/rules.d/65-xen-passthrough-serial-A-12345678.rules";

describe("the udev round", () => {
  test("a plan's dom0 change becomes one request", () => {
    const change = {
      writeRule: { path: RULE, text: 'SUBSYSTEM=="block"\n' },
      setAsideRules: ["/etc/udev/rules.d/99-hand.rules"],
      retrigger: "sdb",
      awaitLink: { path: "/dev/xapi/block/sdb", timeoutSeconds: 60, kernelName: "sdb" },
    };
    expect(udevRequestOf(change)).toEqual({
      writes: [{ path: RULE, text: 'SUBSYSTEM=="block"\n' }],
      disables: ["/etc/udev/rules.d/99-hand.rules"],
      triggers: ["sdb"],
      waits: [{ path: "/dev/xapi/block/sdb", timeoutSeconds: 60, kernelName: "sdb" }],
    });
  });

  test("a delete's change: claim released, rule removed, the link waited gone, the boot repair's pieces removed", () => {
    const change = {
      releaseClaim: { key: "serial-S3Z1", owner: "homelab/dev/nas" },
      removeRule: RULE,
      retrigger: "sdb",
      awaitLinkGone: { path: "/dev/xapi/block/sdb", timeoutSeconds: 60 },
      bootRepair: {
        recordName: "r",
        removeRecord: true,
        removeFailureNote: true,
        removeUnitWhenUnclaimed: true,
      },
    };
    expect(udevRequestOf(change)).toEqual({
      release: { key: "serial-S3Z1", owner: "homelab/dev/nas" },
      removes: [RULE, "/etc/xen-passthrough/boot-repair/r", "/var/lib/xen-passthrough/boot-repair/failed/r"],
      triggers: ["sdb"],
      waitsGone: [{ path: "/dev/xapi/block/sdb", timeoutSeconds: 60 }],
      // The link first: a boot between two removals then runs nothing.
      removeWhenUnclaimed: [
        "/etc/systemd/system/multi-user.target.wants/xen-passthrough-boot-repair.service",
        "/etc/systemd/system/xen-passthrough-boot-repair.service",
        "/opt/xen-passthrough/boot-repair",
      ],
    });
  });

  test("rule text travels as printf %b escapes that bash turns back into the same bytes", () => {
    const text = 'KERNEL=="sd*", ENV{ID_SERIAL}=="a b\\c", RUN+="$(reboot) `x` \'q\'"\n\tü 100%\n';
    const escaped = printfEscaped(text);
    expect(escaped).toMatch(/^[\x21-\x7e]+$/);
    expect(escaped).not.toMatch(/["'`$ ]/);
    const printed = execFileSync("bash", ["-c", 'printf "%b" "$1"', "bash", escaped], { encoding: "utf8" });
    expect(printed).toBe(text);
  });

  test("the manifest numbers each request and carries rule text escaped (no shell quoting)", () => {
    const text = `KERNEL=="x" $(reboot) 'quoted'\n`;
    const manifest = renderManifest([
      { writes: [{ path: RULE, text }], triggers: ["sdb"] },
      { removes: [RULE] },
    ]);
    const lines = manifest.trim().split("\n");
    expect(lines).toEqual([`0 write ${RULE} ${printfEscaped(text)}`, "0 trigger sdb", `1 remove ${RULE}`]);
  });

  test("the script waits for a symlink whose name holds colons (a USB serial such as ...-0:0)", () => {
    // Run for real with bash; udevadm is a no-op stand-in (nothing is triggered here).
    const bin = mkdtempSync(join(tmpdir(), "xp-udev-round-"));
    writeFileSync(join(bin, "udevadm"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const path = "/dev/xapi/block/xp-serial-SanDisk_Cruzer_4C53-0:0";
    const printed = execFileSync("bash", ["-c", UDEV_ROUND_SCRIPT], {
      input: renderManifest([{ waits: [{ path, timeoutSeconds: 0 }] }]),
      env: { PATH: `${bin}:/usr/bin:/bin` },
      encoding: "utf8",
      timeout: 10_000,
    });
    expect(printed.split("\n")).toEqual([`timeout 0 ${path} 0`, "done", ""]);
  });

  test("a link that must go is waited for, and the disk's event replayed while it lingers", () => {
    // Run for real with bash. The stand-in udevadm logs its calls; its second trigger (the
    // replay: udevd may drop an event, see the script) is the one that removes the link.
    const dir = mkdtempSync(join(tmpdir(), "xp-udev-round-"));
    const link = join(dir, "xp-serial-ZS01");
    symlinkSync("/dev/null", link);
    const calls = join(dir, "calls");
    writeFileSync(
      join(dir, "udevadm"),
      `#!/bin/sh\necho "$1" >> ${calls}\n` +
        `[ "$1" = trigger ] && [ "$(grep -c trigger ${calls})" -ge 2 ] && rm -f ${link}\nexit 0\n`,
      { mode: 0o755 },
    );
    const run = (path: string, timeoutSeconds: number) =>
      execFileSync("bash", ["-c", UDEV_ROUND_SCRIPT], {
        input: renderManifest([{ triggers: ["loop9"], waitsGone: [{ path, timeoutSeconds }] }]),
        env: { PATH: `${dir}:/usr/bin:/bin` },
        encoding: "utf8",
        timeout: 20_000,
      });
    expect(run(link, 10).split("\n")).toEqual(["done", ""]);
    expect(readFileSync(calls, "utf8").split("\n")).toEqual(["control", "trigger", "settle", "trigger", ""]);
    // A link udev keeps (the stand-in never removes this one): reported once its bound is up.
    const kept = join(dir, "xp-serial-ZS02");
    symlinkSync("/dev/null", kept);
    expect(run(kept, 1).split("\n")).toEqual([`lingers 0 ${kept} 1`, "done", ""]);
    const [outcome] = parseOutcomes(`lingers 0 ${kept} 1\ndone`, 1);
    expect((outcome as Error).message).toBe(
      `udev did not remove ${kept} within 1 s of its rule going: see which rule still makes it with ` +
        `"udevadm info ${kept}" on the host, then run the operation again`,
    );
  });

  test("outcomes are per request: a timeout fails its own request only", () => {
    const output = [
      "disabled 0 /etc/udev/rules.d/99-hand.rules",
      "timeout 1 /dev/xapi/block/sdc 60",
      "done",
    ].join("\n");
    const [first, second, third] = parseOutcomes(output, 3);
    expect(first).toEqual({
      disabled: new Map([
        ["/etc/udev/rules.d/99-hand.rules", "/etc/udev/rules.d/99-hand.rules.disabled-by-xen-passthrough"],
      ]),
    });
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toMatch(/udev did not create \/dev\/xapi\/block\/sdc within 60 s/);
    expect(third).toEqual({ disabled: new Map() });
  });

  test("a request that fails still reports the rules it set aside, so a rollback can restore them", () => {
    const hand = "/etc/udev/rules.d/99-hand.rules";
    const output = ["disabled 0 " + hand, "timeout 0 /dev/xapi/block/sdb 60", "done"].join("\n");
    const [outcome] = parseOutcomes(output, 1);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error & { disabled?: unknown }).disabled).toEqual(
      new Map([[hand, `${hand}.disabled-by-xen-passthrough`]]),
    );
  });

  test("a failed request keeps the script's exit status and stderr", () => {
    const [cut] = parseOutcomes("", 1, { stderr: "bash: line 3: killed\n", code: 137 });
    expect(cut).toBeInstanceOf(Error);
    expect((cut as Error).message).toBe(
      "the udev round did not finish (exit status 137): ; stderr: bash: line 3: killed",
    );
    expect((cut as Error & { script?: unknown }).script).toEqual({
      stderr: "bash: line 3: killed\n",
      code: 137,
    });
    const [failed] = parseOutcomes("fail 0 could not write x\ndone", 1, { stderr: "mv: denied", code: 0 });
    expect((failed as Error).message).toBe("could not write x; stderr: mv: denied");
  });

  test("a failure of the whole round (marked *) fails every request; a cut-off round fails all", () => {
    expect(
      parseOutcomes("fail * udevadm control --reload failed\ndone", 2).every((o) => o instanceof Error),
    ).toBe(true);
    expect(parseOutcomes("fail 0 could not write x", 2).every((o) => o instanceof Error)).toBe(true);
  });
});
