/**
 * Pure: systemd unit files as dom0's boot reads them, for the units a reboot runs between
 * xapi-init-complete.target and xapi-domains.service (docs/host.md "Host reboots and symlink names"; EL7's systemd 219).
 */

/** Where `systemctl enable` (or an `ln -s`) puts the units multi-user.target pulls in. */
export const MULTI_USER_WANTS = "/etc/systemd/system/multi-user.target.wants";

export const XAPI_INIT_COMPLETE = "xapi-init-complete.target";
export const XAPI_DOMAINS = "xapi-domains.service";

/** The parts of a unit a boot needs. */
export interface BootUnit {
  /** The unit's name, e.g. "xen-passthrough-boot-repair.service". */
  name: string;
  type: string;
  after: string[];
  before: string[];
  /** Each ExecStart= line, in order (a oneshot runs them one after the other). */
  execStart: string[];
  /** Milliseconds before systemd kills the start and fails the unit; undefined: no limit. */
  startTimeoutMs: number | undefined;
}

/**
 * systemd's compiled-in service PATH on EL7 (split /usr: src/basic/path-util.h DEFAULT_PATH). A
 * unit gets this and nothing else: no /opt/xensource/bin, unlike an SSH login on dom0.
 */
export const SYSTEMD_SERVICE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** systemd's DefaultTimeoutStartSec= (90 s, system.conf) for units that name no TimeoutStartSec=. */
export const DEFAULT_START_TIMEOUT_MS = 90_000;

const TIME_UNITS_MS: Record<string, number> = {
  "": 1000,
  s: 1000,
  sec: 1000,
  ms: 1,
  min: 60_000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Pure: the start timeout of a unit. systemd's src/core/service.c (service_add_extras, in 219 as
 * now) disables the start timeout of a Type=oneshot unit that sets no TimeoutStartSec=; other
 * types get DefaultTimeoutStartSec=. "0" (219's way) and "infinity" mean no limit. A value
 * systemd cannot parse is ignored with a warning, so the default applies.
 */
export function startTimeoutOf(type: string, timeoutStartSec: string | undefined): number | undefined {
  if (timeoutStartSec === undefined) return type === "oneshot" ? undefined : DEFAULT_START_TIMEOUT_MS;
  if (timeoutStartSec === "infinity") return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(timeoutStartSec);
  const scale = match?.[2] === undefined ? undefined : TIME_UNITS_MS[match[2]];
  if (match?.[1] === undefined || scale === undefined) {
    return type === "oneshot" ? undefined : DEFAULT_START_TIMEOUT_MS;
  }
  const ms = Number(match[1]) * scale;
  return ms === 0 ? undefined : ms;
}

/**
 * Pure: the `Key=Value` settings of each [Section] of a unit file, values in order of appearance.
 * Comments (# or ;) and blank lines are skipped; a trailing backslash continues a line; an empty
 * assignment resets the list (systemd.unit(5)).
 */
export function parseUnitFile(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      current = sections.get(header[1]) ?? new Map<string, string[]>();
      sections.set(header[1], current);
      continue;
    }
    const equals = line.indexOf("=");
    if (current === undefined || equals <= 0) continue;
    const key = line.slice(0, equals).trim();
    const value = line.slice(equals + 1).trim();
    current.set(key, value === "" ? [] : [...(current.get(key) ?? []), value]);
  }
  return sections;
}

/** Pure: the boot-relevant settings of unit `name` whose file reads `text`. */
export function bootUnitOf(name: string, text: string): BootUnit {
  const sections = parseUnitFile(text);
  const unit = sections.get("Unit");
  const service = sections.get("Service");
  const words = (values: string[] | undefined) => (values ?? []).flatMap((value) => value.split(/\s+/));
  const type = service?.get("Type")?.at(-1) ?? "simple";
  return {
    name,
    type,
    after: words(unit?.get("After")),
    before: words(unit?.get("Before")),
    execStart: service?.get("ExecStart") ?? [],
    startTimeoutMs: startTimeoutOf(type, service?.get("TimeoutStartSec")?.at(-1)),
  };
}

/** Pure: whether a unit runs once XAPI's init is complete and before any VM auto-starts. */
export function runsBetweenInitAndDomains(unit: BootUnit): boolean {
  return unit.after.includes(XAPI_INIT_COMPLETE) && unit.before.includes(XAPI_DOMAINS);
}

/**
 * Pure: the units in an order that honours their After=/Before= among themselves (systemd would
 * start unordered ones in parallel: here they run one at a time, by name, our choice). A cycle
 * is broken by name order, as systemd breaks one by dropping a job.
 */
export function orderBootUnits(units: readonly BootUnit[]): BootUnit[] {
  const byName = [...units].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = new Set(byName.map((unit) => unit.name));
  const mustFollow = new Map(byName.map((unit) => [unit.name, new Set<string>()]));
  for (const unit of byName) {
    for (const other of unit.after) if (names.has(other)) mustFollow.get(unit.name)?.add(other);
    for (const other of unit.before) if (names.has(other)) mustFollow.get(other)?.add(unit.name);
  }
  const ordered: BootUnit[] = [];
  const done = new Set<string>();
  while (ordered.length < byName.length) {
    const ready =
      byName.find(
        (unit) =>
          !done.has(unit.name) && [...(mustFollow.get(unit.name) ?? [])].every((name) => done.has(name)),
      ) ?? byName.find((unit) => !done.has(unit.name));
    if (ready === undefined) break;
    ordered.push(ready);
    done.add(ready.name);
  }
  return ordered;
}

/** A command line of ExecStart=, split into words (prefixes such as "-" removed). */
export interface ExecCommand {
  argv: string[];
  /** "-" prefix: a failure does not fail the unit. */
  ignoreFailure: boolean;
}

/**
 * Pure: one ExecStart= value split as systemd does for simple cases: leading "-@+!" prefixes,
 * then words separated by blanks, with single or double quotes grouping (no shell: no pipes,
 * no variables). An error when the program path is not absolute: systemd 219 refuses that unit.
 */
export function parseExecStart(value: string): ExecCommand | { error: string } {
  const prefix = /^[-@+!:]*/.exec(value)?.[0] ?? "";
  const argv: string[] = [];
  const word = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of value.slice(prefix.length).matchAll(word)) {
    argv.push(match[1]?.replace(/\\(.)/g, "$1") ?? match[2] ?? match[3] ?? "");
  }
  const program = argv[0];
  if (program === undefined) return { error: "ExecStart= is empty" };
  if (!program.startsWith("/")) return { error: `Executable path is not absolute: ${program}` };
  return { argv, ignoreFailure: prefix.includes("-") };
}
