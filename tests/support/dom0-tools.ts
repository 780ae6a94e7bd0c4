// What a real XCP-ng dom0 can run: the versions of its userland (8.2 and 8.3 ship the same,
// a CentOS 7.5 base), and every command, option and bash construct our remote scripts may use,
// each with the version it appeared in and where that is written. Our sandbox's dom0 runs this
// machine's Debian userland (bash 5.2, systemd 252), so only this list stands between a newer
// flag and the first real host.

export type Dom0Package =
  "bash" | "systemd" | "util-linux" | "coreutils" | "findutils" | "gawk" | "sed" | "rpm" | "xapi";

export interface PackageVersion {
  readonly version: string;
  readonly source: string;
}

const CENTOS_75 =
  "not rebuilt by XCP-ng: taken from its CentOS 7.5 base (xcp-ng/xcp-ng-org docs: release notes of " +
  "8.2 and 8.3, 'Base version of CentOS in dom0: 7.5'); CentOS/RHEL 7.5 ships ";

/** dom0's versions per XCP-ng release, from the XCP-ng package sources. */
export const DOM0_PACKAGES: Readonly<
  Record<Dom0Package, { readonly "8.2": PackageVersion; readonly "8.3": PackageVersion }>
> = {
  bash: {
    "8.2": {
      version: "4.2.46",
      source: "xcp-ng-rpms/bash SPECS/bash.spec: baseversion 4.2, patchleveltag .46",
    },
    "8.3": { version: "4.2.46", source: "xcp-ng-rpms/bash SPECS/bash.spec (master): Version 4.2.46" },
  },
  systemd: {
    "8.2": {
      version: "219",
      source: "xcp-ng-rpms/systemd branch 8.2, SPECS/systemd.spec: Version 219, Release 57.2",
    },
    "8.3": {
      version: "219",
      source: "xcp-ng-rpms/systemd master (XS-8.3), SPECS/systemd.spec: Version 219, xsver 57.5",
    },
  },
  "util-linux": {
    "8.2": {
      version: "2.23.2",
      source: "xcp-ng-rpms/util-linux branch 8.2, SPECS/util-linux.spec: 2.23.2-52.1",
    },
    "8.3": { version: "2.23.2", source: "xcp-ng-rpms/util-linux master, SPECS/util-linux.spec: 2.23.2-52.1" },
  },
  coreutils: {
    "8.2": { version: "8.22", source: `${CENTOS_75}coreutils-8.22-21.el7` },
    "8.3": { version: "8.22", source: `${CENTOS_75}coreutils-8.22-21.el7` },
  },
  findutils: {
    "8.2": { version: "4.5.11", source: `${CENTOS_75}findutils-4.5.11-5.el7` },
    "8.3": { version: "4.5.11", source: `${CENTOS_75}findutils-4.5.11-5.el7` },
  },
  gawk: {
    "8.2": { version: "4.0.2", source: `${CENTOS_75}gawk-4.0.2-4.el7_3.1` },
    "8.3": { version: "4.0.2", source: `${CENTOS_75}gawk-4.0.2-4.el7_3.1` },
  },
  sed: {
    "8.2": {
      version: "4.2.2",
      source: `${CENTOS_75}sed-4.2.2 (git.centos.org rpms/sed, c7: 4.2.2 throughout)`,
    },
    "8.3": {
      version: "4.2.2",
      source: `${CENTOS_75}sed-4.2.2 (git.centos.org rpms/sed, c7: 4.2.2 throughout)`,
    },
  },
  rpm: {
    "8.2": { version: "4.11.3", source: `${CENTOS_75}rpm-4.11.3-32.el7` },
    "8.3": { version: "4.11.3", source: `${CENTOS_75}rpm-4.11.3-32.el7` },
  },
  xapi: {
    "8.2": {
      version: "1",
      source: "xapi-project/xen-api scripts/local-device-change, installed by every XAPI",
    },
    "8.3": {
      version: "1",
      source: "xapi-project/xen-api scripts/local-device-change, installed by every XAPI",
    },
  },
};

/** One thing a script may use: the version of `package` it appeared in, and where that is written. */
export interface Since {
  readonly since: string;
  readonly source: string;
}

export interface OptionRule extends Since {
  /** The option takes a value ("-n 2", "-n2" or "--lines=2"). */
  readonly value?: boolean;
}

export interface CommandRule extends Since {
  readonly package: Dom0Package;
  /** How options are told apart: bash builtins stop at the first operand, GNU tools do not. */
  readonly parse: "builtin" | "gnu" | "find" | "test";
  readonly options?: Readonly<Record<string, OptionRule>>;
  /** `udevadm <subcommand>`: each with its own options. */
  readonly subcommands?: Readonly<
    Record<string, Since & { readonly options: Readonly<Record<string, OptionRule>> }>
  >;
  /** Operands before the command it runs (`exec cmd`, `timeout 5 cmd`). */
  readonly wraps?: number;
  /** The option whose value is itself a script (`bash -c SCRIPT`). */
  readonly scriptOption?: string;
  /** The operand that is itself a script (`trap ACTION SIGNAL`). */
  readonly scriptOperand?: number;
  /** The first operand is a printf format. */
  readonly printfFormat?: boolean;
}

const POSIX = "POSIX shell and utilities (IEEE Std 1003.1), in bash since its first 2.x releases";
const opt = (since: string, source: string, value = false): OptionRule => ({
  since,
  source,
  ...(value ? { value } : {}),
});
const bashBuiltin = (
  since: string,
  source: string,
  options: Record<string, OptionRule> = {},
): CommandRule => ({
  package: "bash",
  parse: "builtin",
  since,
  source,
  options,
});
const coreutil = (since: string, source: string, options: Record<string, OptionRule> = {}): CommandRule => ({
  package: "coreutils",
  parse: "gnu",
  since,
  source,
  options,
});
const TEST_OPERATORS = Object.fromEntries(
  ["-e", "-f", "-d", "-r", "-x", "-L", "-b", "-n", "-z", "-eq", "-ne", "-lt", "-le", "-gt", "-ge"].map(
    (o) => [o, opt("2.0", POSIX)],
  ),
);

/** Every command our scripts may run on dom0, with the options they may pass it. */
export const COMMANDS: Readonly<Record<string, CommandRule>> = {
  ":": bashBuiltin("2.0", POSIX),
  "[": {
    ...bashBuiltin("2.0", POSIX),
    parse: "test",
    options: {
      ...TEST_OPERATORS,
      "-v": opt("4.2", "bash NEWS, bash-4.2 f: test/[/[[ have a new -v variable unary operator"),
    },
  },
  break: bashBuiltin("2.0", POSIX),
  continue: bashBuiltin("2.0", POSIX),
  true: bashBuiltin("2.0", POSIX),
  echo: bashBuiltin("2.0", POSIX),
  exec: { ...bashBuiltin("2.0", POSIX), wraps: 0 },
  exit: bashBuiltin("2.0", POSIX),
  export: bashBuiltin("2.0", POSIX),
  set: bashBuiltin("2.0", POSIX, { "-e": opt("2.0", POSIX), "-u": opt("2.0", POSIX) }),
  trap: { ...bashBuiltin("2.0", POSIX), scriptOperand: 0 },
  umask: bashBuiltin("2.0", POSIX),
  read: bashBuiltin("2.0", POSIX, {
    "-r": opt("2.0", POSIX),
    "-d": opt("2.04", "bash NEWS, bash-2.04: read -d delim reads until delim rather than newline", true),
    "-N": opt("4.1", "bash NEWS, bash-4.1 u: the read builtin has a new -N nchars option"),
  }),
  printf: {
    ...bashBuiltin("2.02", "bash NEWS, bash-2.02 f: there is a new printf builtin"),
    printfFormat: true,
    options: {
      "-v": opt("3.1", "bash NEWS, bash-3.1 q: the printf builtin takes a new option: -v var", true),
    },
  },
  mapfile: bashBuiltin("4.0", "bash NEWS, bash-4.0 u: a new mapfile builtin (readarray is a synonym)", {
    "-t": opt("4.0", "bash NEWS, bash-4.0 u: mapfile -t removes the trailing newline"),
  }),
  readarray: bashBuiltin("4.0", "bash NEWS, bash-4.0 u: a new mapfile builtin (readarray is a synonym)"),
  wait: bashBuiltin("2.0", POSIX, {
    "-n": opt("4.3", "bash NEWS, bash-4.3 cc: wait has a new -n option"),
  }),
  declare: bashBuiltin("2.0", "bash builtins", {
    "-n": opt("4.3", "bash NEWS, bash-4.3 w: nameref variables and the -n option to declare and local"),
  }),
  bash: {
    package: "bash",
    parse: "gnu",
    since: "2.0",
    source: "bash(1), INVOCATION",
    scriptOption: "-c",
    options: {
      "-c": opt("2.0", "bash(1), OPTIONS", true),
      "--norc": opt("2.0", "bash(1), INVOCATION: --norc (bash-2.0 long options)"),
      "--noprofile": opt("2.0", "bash(1), INVOCATION: --noprofile (bash-2.0 long options)"),
    },
  },
  cat: coreutil("5.0", POSIX),
  chmod: coreutil("5.0", POSIX),
  cut: coreutil("5.0", POSIX, { "-d": opt("5.0", POSIX, true), "-f": opt("5.0", POSIX, true) }),
  date: coreutil("5.0", POSIX, { "-u": opt("5.0", "POSIX date -u (UTC)") }),
  dirname: coreutil("5.0", POSIX),
  head: coreutil("5.0", "GNU head -c/--bytes (textutils, in coreutils since its 5.0 merge)", {
    "-c": opt("5.0", "GNU head -c/--bytes (textutils, in coreutils since its 5.0 merge)", true),
  }),
  mktemp: coreutil("7.0", "coreutils NEWS, release 7.0: new program mktemp"),
  ln: coreutil("5.0", POSIX, {
    "-s": opt("5.0", POSIX),
    "-f": opt("5.0", POSIX),
    "-n": opt("5.0", "GNU ln -n/--no-dereference (fileutils, in coreutils since its 5.0 merge)"),
  }),
  mkdir: coreutil("5.0", POSIX, { "-p": opt("5.0", POSIX) }),
  mv: coreutil("5.0", POSIX, {
    "-f": opt("5.0", POSIX),
    "-T": opt("5.3.0", "coreutils NEWS, release 5.3.0: mv has a new --no-target-directory (-T) option"),
  }),
  readlink: coreutil("5.0", "coreutils readlink (from fileutils)", {
    "-f": opt("5.0", "coreutils NEWS: readlink -f canonicalizes (present since the 5.0 merge)"),
  }),
  rm: coreutil("5.0", POSIX, { "-f": opt("5.0", POSIX) }),
  sleep: coreutil(
    "5.0",
    "coreutils NEWS (sh-utils, before 5.0): sleep accepts floating point arguments; parsed in the C locale since 6.6",
  ),
  tail: coreutil("5.0", POSIX, { "-n": opt("5.0", "POSIX: tail -n +N starts at line N", true) }),
  tee: coreutil("5.0", POSIX, { "-a": opt("5.0", "POSIX tee -a (append)") }),
  timeout: {
    ...coreutil("8.13", "coreutils NEWS: timeout added in 7.0; sub-second durations (our '61.5') since 8.13"),
    options: {
      "-k": opt("8.5", "coreutils NEWS, release 8.5: timeout accepts the --kill-after option", true),
    },
    wraps: 1,
  },
  awk: {
    package: "gawk",
    parse: "gnu",
    since: "4.0.2",
    source: "POSIX awk program (pattern, ~ match, assignment); dom0's awk is gawk",
    options: {},
  },
  find: {
    package: "findutils",
    parse: "find",
    since: "4.1",
    source: "GNU findutils NEWS (its -printf predates 3.8, which added %F)",
    options: {
      "-mindepth": opt("4.1", "find(1) of findutils 4.x: -mindepth levels", true),
      "-maxdepth": opt("4.1", "find(1) of findutils 4.x: -maxdepth levels", true),
      "-type": opt("4.1", "POSIX find -type c (l: symbolic link)", true),
      "-path": opt("4.1", "POSIX find -path pattern", true),
      "-prune": opt("4.1", "POSIX find -prune"),
      "-o": opt("4.1", "POSIX find expr1 -o expr2"),
      "-printf": opt(
        "4.1",
        "find(1): -printf format, %f (name), %l (link target) and %D (st_dev) in the findutils 4.4 manual",
        true,
      ),
    },
  },
  sed: {
    package: "sed",
    parse: "gnu",
    since: "4.2.2",
    source:
      "POSIX sed: an s command with a basic regular expression (\\( \\) groups, \\{m,n\\}) and the p flag",
    options: { "-n": opt("4.2.2", "POSIX sed -n: print only what the script prints") },
  },
  rpm: {
    package: "rpm",
    parse: "gnu",
    since: "4.0",
    source: "rpm(8) of rpm 4.x: query mode; dom0 installs every package, sm included, as an rpm",
    options: {
      "-q": opt("4.0", "rpm(8): -q/--query selects the query mode"),
      "--qf": opt("4.0", "rpm(8): --qf/--queryformat QUERYFMT, with %{TAG} and \\n escapes", true),
    },
  },
  mountpoint: {
    package: "util-linux",
    parse: "gnu",
    since: "2.18",
    source: "xcp-ng-rpms/util-linux SPECS/util-linux.spec packages %{_bindir}/mountpoint",
    options: {
      "-d": opt(
        "2.18",
        "mountpoint(1) -d/--fs-devno: in util-linux's mountpoint since it came from sysvinit",
      ),
    },
  },
  udevadm: {
    package: "systemd",
    parse: "gnu",
    since: "219",
    source: "xcp-ng-rpms/systemd SPECS/systemd.spec: /usr/bin/udevadm of systemd 219",
    subcommands: {
      control: {
        since: "219",
        source: "systemd 219 src/udev/udevadm-control.c",
        options: {
          "--reload": opt("219", "systemd 219 udevadm-control.c option table: reload (alias reload-rules)"),
          "--ping": opt("219", "systemd 219 udevadm-control.c option table: ping"),
        },
      },
      trigger: {
        since: "219",
        source: "systemd 219 src/udev/udevadm-trigger.c",
        options: {
          "--action": opt("219", "systemd 219 udevadm-trigger.c: -c/--action", true),
          "--subsystem-match": opt("219", "systemd 219 udevadm-trigger.c: -s/--subsystem-match", true),
          "--sysname-match": opt(
            "219",
            "systemd 219 udevadm-trigger.c: -y/--sysname-match, repeatable (ORed)",
            true,
          ),
          "--settle": opt("238", "systemd NEWS, 238: udevadm trigger gained --settle"),
        },
      },
      settle: {
        since: "219",
        source: "systemd 219 src/udev/udevadm-settle.c",
        options: {
          "--timeout": opt("219", "systemd 219 udevadm-settle.c; RHEL patch 0138 restores the timeout", true),
        },
      },
      info: {
        since: "219",
        source: "systemd 219 src/udev/udevadm-info.c",
        options: {
          "--export-db": opt("219", "systemd 219 udevadm-info.c: -e/--export-db"),
          "--query": opt("219", "systemd 219 udevadm-info.c: -q/--query=property", true),
          "--name": opt(
            "219",
            "systemd 219 udevadm-info.c: -n/--name (a /dev path, symlinks followed)",
            true,
          ),
        },
      },
      wait: { since: "251", source: "systemd NEWS, 251: new udevadm wait", options: {} },
      lock: { since: "251", source: "systemd NEWS, 251: new udevadm lock", options: {} },
    },
  },
  xe: {
    package: "xapi",
    parse: "gnu",
    since: "1",
    source: "xapi-project/xen-api ocaml/xe-cli, /opt/xensource/bin/xe on every dom0",
    subcommands: Object.fromEntries(
      [
        "sr-list",
        "sr-scan",
        "pbd-list",
        "vdi-list",
        "vdi-param-get",
        "vbd-list",
        "vbd-param-get",
        "vbd-param-set",
        "vbd-create",
        "vbd-destroy",
      ].map((command) => [
        command,
        {
          since: "1",
          source:
            "xen-api ocaml/xapi/cli_frontend.ml (sr-scan, vbd-create, vbd-destroy) and cli_operations.ml " +
            "make_param_funs (<class>-list, -param-get, -param-set; map keys as 'other-config:key=value')",
          options: {
            "--minimal": opt("1", "xen-api cli: --minimal prints the first field, comma-separated"),
          },
        },
      ]),
    ),
  },
  "/opt/xensource/libexec/local-device-change": {
    package: "xapi",
    parse: "gnu",
    since: "1",
    source: "xapi-project/xen-api scripts/local-device-change, run by the stock 58-xapi.rules",
    options: {},
  },
};

/** bash constructs: quoting, expansions, redirections, reserved words and operators. */
export const SHELL_FEATURES: Readonly<Record<string, Since>> = {
  ...Object.fromEntries(
    [
      "if",
      "then",
      "else",
      "elif",
      "fi",
      "for",
      "do",
      "done",
      "while",
      "until",
      "case",
      "esac",
      "{",
      "}",
      "!",
      "|",
      "&&",
      "||",
      ";",
      "&",
      ";;",
      "(",
      ")",
      "<",
      ">",
      ">>",
      "N>",
      "N<",
      "N>&",
      "N<&",
      "<&",
      ">&",
      "$(...)",
      "`...`",
      "$((...))",
      "${name}",
      "${#name}",
      "${name#pattern}",
      "${name##pattern}",
      "${name%pattern}",
      "${name%%pattern}",
      "${name:-word}",
    ].map((feature) => [feature, { since: "2.0", source: POSIX }]),
  ),
  ...Object.fromEntries(
    ["${name/pattern/string}", "${name//pattern/string}", "${name/#pattern/string}"].map((feature) => [
      feature,
      { since: "2.0", source: "bash NEWS, bash-2.0 s: ${parameter/pattern[/[/]string]}" },
    ]),
  ),
  "${name:offset:length}": { since: "2.0", source: "bash NEWS, bash-2.0 r: ${parameter:offset[:length]}" },
  "${!name}": { since: "2.0", source: "bash NEWS, bash-2.0 q: ${!var} indirect expansion" },
  "${name[index]}": { since: "2.0", source: "bash NEWS, bash-2.0 p: integer-indexed arrays" },
  "$'...'": {
    since: "2.0",
    source: "bash NEWS, bash-2.0 i: the $'...' quoting syntax expands ANSI-C escapes",
  },
  "$'...' in a double-quoted ${...}": {
    since: "4.3",
    source:
      "bash CHANGES, bash-4.3-beta b: single quotes resulting from $'...' in the replacement of a " +
      "double-quoted ${word/pat/rep} were treated as quote characters; COMPAT 53 and compat42: before 4.3 " +
      "that replacement is not run through quote removal. Keep $'...' out of double-quoted expansions.",
  },
  "[[": { since: "2.02", source: "bash NEWS, bash-2.02 e: the ksh-like [[ compound command" },
  "<<<": { since: "2.05b", source: "bash NEWS, bash-2.05b n: new here-string redirection operator <<< word" },
  "N<<<": {
    since: "2.05b",
    source: "bash NEWS, bash-2.05b n: new here-string redirection operator <<< word",
  },
  "<(...)": {
    since: "4.2",
    source: "bash-4.2 doc/bash.1, Process Substitution: <(list) on systems with /dev/fd (dom0's own release)",
  },
  "name+=value": { since: "3.1", source: "bash NEWS, bash-3.1 i: the += assignment operator" },
  ";&": { since: "4.0", source: "bash NEWS, bash-4.0 ee: the ;& case action list terminator" },
  ";;&": { since: "4.0", source: "bash NEWS, bash-4.0 ff: the ;;& case action list terminator" },
  "&>>": { since: "4.0", source: "bash NEWS, bash-4.0 cc: the &>> redirection operator" },
  "|&": { since: "4.0", source: "bash NEWS, bash-4.0 dd: |& as a synonym for 2>&1 |" },
  coproc: { since: "4.0", source: "bash NEWS, bash-4.0 kk: the coproc reserved word" },
  "${name^^}": { since: "4.0", source: "bash NEWS, bash-4.0 hh: case-modifying word expansions" },
  "{varname}>": { since: "4.1", source: "bash NEWS, bash-4.1 p: {var} on the left of a redirection" },
  "{varname}<": { since: "4.1", source: "bash NEWS, bash-4.1 p: {var} on the left of a redirection" },
  "${name[-index]}": { since: "4.2", source: "bash NEWS, bash-4.2 p: negative subscripts of indexed arrays" },
  "${name@op}": { since: "4.4", source: "bash NEWS, bash-4.4 o: the ${parameter@spec} operators" },
};

/** Conversions of the printf builtin's format. */
export const PRINTF_CONVERSIONS: Readonly<Record<string, Since>> = {
  "%s": { since: "2.02", source: POSIX },
  "%b": { since: "2.02", source: "POSIX printf %b (\\0nnn octal escapes), bash-2.02 printf builtin" },
  "%(fmt)T": { since: "4.2", source: "bash NEWS, bash-4.2 m: printf %(fmt)T; the argument -1 means now" },
  "%(fmt)T without an argument": {
    since: "4.3",
    source: "bash NEWS, bash-4.3 dd: %(...)T uses the current time if no argument is given (pass -1 on 4.2)",
  },
  "%Q": { since: "5.2", source: "bash NEWS, bash-5.2 r: printf %Q" },
};

/** bash's special variables; any other name is the script's own. */
export const BASH_VARIABLES: Readonly<Record<string, Since>> = {
  BASHPID: { since: "4.0", source: "bash NEWS, bash-4.0 c: $BASHPID" },
  EPOCHSECONDS: { since: "5.0", source: "bash NEWS, bash-5.0 b: EPOCHSECONDS" },
  EPOCHREALTIME: { since: "5.0", source: "bash NEWS, bash-5.0 b: EPOCHREALTIME" },
  SRANDOM: { since: "5.1", source: "bash NEWS, bash-5.1 i: SRANDOM" },
  BASH_ARGV0: { since: "5.0", source: "bash NEWS, bash-5.0 e: BASH_ARGV0" },
};

/** The oldest version of a package across the releases we support. */
export function dom0Version(name: Dom0Package): string {
  const releases = DOM0_PACKAGES[name];
  return [releases["8.2"].version, releases["8.3"].version].sort(compareVersions)[0] ?? "0";
}

/** Pure: compares dotted versions numerically ("4.2.46" > "4.2", "219" < "238", "2.05b" > "2.05"). */
export function compareVersions(a: string, b: string): number {
  const key = (part: string): number => {
    const [, digits = "", letter = ""] = /^([0-9]+)([a-z]?)$/.exec(part) ?? [];
    return Number(digits) * 100 + (letter === "" ? 0 : letter.charCodeAt(0) - 96);
  };
  const left = a.split(".").map(key);
  const right = b.split(".").map(key);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
