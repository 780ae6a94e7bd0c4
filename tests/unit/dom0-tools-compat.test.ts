// Every script the provider runs on dom0, held against what a real XCP-ng 8.2 / 8.3 dom0 has
// (bash 4.2.46, systemd 219's udevadm, util-linux 2.23.2, coreutils 8.22, findutils 4.5.11).
// The sandbox runs this machine's newer userland, so the host tests cannot catch a flag or a
// builtin that dom0 lacks: this test reads the scripts and checks each use against the list.
import { renderRule } from "#provider/core/rule.js";
import { DOM0_SCRIPTS } from "#provider/dom0/scripts.js";
import {
  BOOTSTRAP_COMMAND,
  readFileScript,
  writeFileAtomicScript,
} from "#provider/adapters/remote-script.js";
import { compatProblems, toolUses } from "../support/dom0-compat";
import {
  COMMANDS,
  DOM0_PACKAGES,
  SHELL_FEATURES,
  compareVersions,
  dom0Version,
  type Dom0Package,
} from "../support/dom0-tools";
import { scanScript } from "../support/shell-scan";

/** The shell command udevd runs for our rule's RUN+= (the rule's own quoting undone). */
function ruleRunCommands(ruleText: string): string[] {
  return [...ruleText.matchAll(/RUN\+="\/bin\/sh -c '([^']*)'"/g)].map((m) =>
    (m[1] ?? "").replace("%k", "sdb"),
  );
}

const rule = renderRule({ serial: "ZS0F2A9200" });
const { inventory: INVENTORY_SCRIPT, udevRound: UDEV_ROUND_SCRIPT } = DOM0_SCRIPTS;

/** Every script the provider sends to dom0, by name. */
const REMOTE_SCRIPTS: Readonly<Record<string, string>> = {
  "the SSH command line (BOOTSTRAP_COMMAND)": BOOTSTRAP_COMMAND,
  // Every script of dom0/scripts.ts, so a new one is held to the list without touching this test.
  ...Object.fromEntries(
    Object.entries(DOM0_SCRIPTS).map(([name, script]) => [`DOM0_SCRIPTS.${name}`, script]),
  ),
  readFileScript: readFileScript("/etc/udev/rules.d/65-xen-passthrough-serial-x.rules"),
  writeFileAtomicScript: writeFileAtomicScript("/etc/udev/rules.d/65-xen-passthrough-serial-x.rules", 0o644),
  ...Object.fromEntries(
    ruleRunCommands(rule.text).map((command, i) => [`the rule's RUN program ${i}`, command]),
  ),
};

describe("dom0's own tools", () => {
  test.each(Object.entries(REMOTE_SCRIPTS))("%s uses only what XCP-ng 8.2 and 8.3 dom0 has", (_, script) => {
    expect(compatProblems(script)).toEqual([]);
  });

  test("the checker sees the commands and options each script really uses", () => {
    const uses = (script: string) => new Set(toolUses(script).map((use) => use.what));
    expect([...uses(UDEV_ROUND_SCRIPT)]).toEqual(
      expect.arrayContaining([
        "udevadm control --reload",
        "udevadm trigger --action",
        "udevadm trigger --subsystem-match",
        // Only through $matches, which the script fills in a loop.
        "udevadm trigger --sysname-match",
        "udevadm settle --timeout",
        "printf %b",
        "${name%pattern}",
        "command sleep",
        "command mv",
      ]),
    );
    expect([...uses(INVENTORY_SCRIPT)]).toEqual(
      expect.arrayContaining([
        "find -path",
        "find -prune",
        "find -o",
        "cut -d",
        "readlink -f",
        "find -printf",
        "udevadm info --export-db",
        "command awk",
        "read -d",
        "${name//pattern/string}",
        "rpm -q",
        "rpm --qf",
        "<(...)",
      ]),
    );
    // The boot repair (installed on dom0, run by systemd): every xe command it runs is listed.
    expect([...uses(DOM0_SCRIPTS.bootRepair)]).toEqual(
      expect.arrayContaining([
        "xe sr-list",
        "xe pbd-list",
        "xe vbd-list",
        "xe vbd-param-get",
        "xe vdi-param-get",
        "xe vbd-destroy",
        "xe sr-scan",
        "xe vdi-list",
        "xe vbd-create",
        "xe vbd-param-set",
        "udevadm info --query",
        "udevadm info --name",
        "tee -a",
        "printf -v",
        "<<<",
      ]),
    );
    // The command line's `bash -c` script and the scripts in its $(...) are read too.
    expect([...uses(BOOTSTRAP_COMMAND)]).toEqual(
      expect.arrayContaining(["bash --norc", "bash -c", "head -c", "timeout -k", "command timeout", "N<<<"]),
    );
    expect(ruleRunCommands(rule.text)).toHaveLength(2);
  });

  test.each([
    [
      "udevadm trigger --settle --action=change /sys/class/block/sdb",
      /udevadm trigger --settle: needs systemd 238/,
    ],
    ["udevadm wait /dev/xapi/block/sdb", /udevadm wait: needs systemd 251/],
    ['echo "${x@Q}"', /\$\{name@op\}: needs bash 4\.4/],
    ["printf -v now '%(%s)T'", /printf %\(fmt\)T without an argument: needs bash 4\.3/],
    ["wait -n", /wait -n: needs bash 4\.3/],
    ['echo "$EPOCHSECONDS"', /\$EPOCHSECONDS: needs bash 5\.0/],
    ['printf "%s\\n" "${text//$\'\\n\'/|}"', /\$'\.\.\.' in a double-quoted \$\{\.\.\.\}: needs bash 4\.3/],
    ["lsblk -J -o NAME", /command lsblk: not in the dom0 tools list/],
    ["find /dev -newermt yesterday", /find -newermt: not in the dom0 tools list/],
    ["exec 3<>/dev/null; cat <&3", /<>: not in the dom0 tools list/],
    ["f() { :; }", /f\( \(extglob or function\): not in the dom0 tools list/],
  ])("refuses what dom0 lacks or the list does not name: %s", (script, problem) => {
    expect(compatProblems(script).join("\n")).toMatch(problem);
  });

  test("within the list, what is newer than dom0 is known to be so, and the rest fits", () => {
    expect(compatProblems("mapfile -t lines < /etc/hosts; echo ${#lines}")).toEqual([]);
    expect(compatProblems("case x in x) echo a ;& y) echo b ;; esac")).toEqual([]);
    expect(SHELL_FEATURES["${name@op}"]?.since).toBe("4.4");
    expect(COMMANDS["udevadm"]?.subcommands?.["trigger"]?.options["--settle"]?.since).toBe("238");
  });

  test("dom0's versions: the same in 8.2 and 8.3, each with its source", () => {
    const packages = Object.keys(DOM0_PACKAGES) as Dom0Package[];
    expect(Object.fromEntries(packages.map((name) => [name, dom0Version(name)]))).toEqual({
      bash: "4.2.46",
      systemd: "219",
      "util-linux": "2.23.2",
      coreutils: "8.22",
      findutils: "4.5.11",
      gawk: "4.0.2",
      sed: "4.2.2",
      rpm: "4.11.3",
      xapi: "1",
    });
    for (const name of packages) {
      for (const release of ["8.2", "8.3"] as const) expect(DOM0_PACKAGES[name][release].source).not.toBe("");
    }
  });

  test("every entry of the list names its version and source", () => {
    const entries = [
      ...Object.values(SHELL_FEATURES),
      ...Object.values(COMMANDS).flatMap((command) => [
        command,
        ...Object.values(command.options ?? {}),
        ...Object.values(command.subcommands ?? {}).flatMap((sub) => [sub, ...Object.values(sub.options)]),
      ]),
    ];
    for (const entry of entries) {
      expect(entry.since).toMatch(/^[0-9]+(\.[0-9]+[a-z]?)*$/);
      expect(entry.source.length).toBeGreaterThan(3);
    }
    expect(compareVersions("4.2.46", "4.2")).toBeGreaterThan(0);
    expect(compareVersions("219", "238")).toBeLessThan(0);
  });

  test("the scanner reads case patterns, loops and nested substitutions as bash does", () => {
    const scan = scanScript(
      'for f in /a/*; do case "$f" in *=*) echo "${f#x}" ;; a|b) : ;; esac; done\nx=$(cat "$(dirname -- "$f")/y")',
    );
    expect(scan.commands.map((c) => c.name)).toEqual(["echo", ":"]);
    expect(scan.substitutions).toEqual(['cat "$(dirname -- "$f")/y"']);
    expect(scan.features).toEqual(expect.arrayContaining(["for", "case", "esac", ";;", "${name#pattern}"]));
  });

  test("the scanner reads a process substitution as a script of its own, not as a subshell", () => {
    const scan = scanScript(
      "exec 4< <(rpm -q --qf '%{VERSION}\\n' sm 2>/dev/null)\nread -r l <&4\nexec 4<&-",
    );
    expect(scan.substitutions).toEqual(["rpm -q --qf '%{VERSION}\\n' sm 2>/dev/null"]);
    expect(scan.features).toEqual(expect.arrayContaining(["N<", "<(...)", "<&", "N<&"]));
    expect(scan.features).not.toContain("(");
  });
});
