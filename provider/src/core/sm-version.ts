// The host's storage-manager (sm) version, and what it says about the udev SR. Pure.
//
// The udev SR makes one VDI per entry of /dev/xapi/block, with the entry's own path as its
// location (xapi-project/sm drivers/udevSR.py). Since sm 3.0.6 (xapi-project/sm PR #603, commits
// c12b12ba and 53566f52; XCP-ng 8.3, XenServer 8) udevVDI.load resolves the entry with realpath,
// so a symlink named after anything works; older sm (2.30.8: XCP-ng 8.2, XenServer 8.2 CU1)
// reads the entry's own name as a kernel name, and any other name gives size 0 and
// "Unrecognised bus type".

/** The first sm release whose udev SR resolves symlinks in its directory. */
export const SM_RESOLVES_SYMLINKS_SINCE = "3.0.6";

/**
 * The version out of `rpm -q --qf '%{VERSION}\n' sm` output: its first line that is a dotted
 * number; undefined for anything else ("package sm is not installed", no rpm, empty).
 */
export function parseSmVersion(lines: readonly string[]): string | undefined {
  return lines.map((line) => line.trim()).find((line) => /^[0-9]+(?:\.[0-9]+)*$/.test(line));
}

/** True when sm at this version resolves symlinks; unknown versions do not (kernel names work everywhere). */
export function smResolvesSymlinks(version: string | undefined): boolean {
  return version !== undefined && compareDotted(version, SM_RESOLVES_SYMLINKS_SINCE) >= 0;
}

/** Compares dotted numbers part by part ("3.0.10" > "3.0.6", "3" = "3.0"). */
export function compareDotted(a: string, b: string): number {
  const left = a.split(".").map(Number);
  const right = b.split(".").map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
