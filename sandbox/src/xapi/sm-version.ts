/**
 * The storage manager (the `sm` package) a simulated host runs, and what its version changes.
 * Since sm v3.0.6 (xapi-project/sm PR #603, merged 2023-03-23; XCP-ng 8.3 and XenServer 8 ship sm
 * 3.x) `udevVDI.load` in `drivers/udevSR.py` resolves a /dev/xapi/block entry with realpath
 * before it reads the device; older sm (2.30.8 in XCP-ng 8.2 and XenServer 8.2 CU1) reads the
 * entry's own name.
 */

/** XCP-ng 8.3 / XenServer 8: symlinks in the udev SR's directory are resolved. */
export const DEFAULT_SM_VERSION = "3.2.3";

/** XCP-ng 8.2 / XenServer 8.2 CU1: symlinks are not resolved. */
export const SM_VERSION_8_2 = "2.30.8";

const FIRST_RESOLVING: readonly number[] = [3, 0, 6];

/** Pure: "3.2.3" -> [3, 2, 3]; undefined for anything that is not dotted whole numbers. */
export function parseSmVersion(version: string): number[] | undefined {
  if (!/^\d+(\.\d+)*$/.test(version)) return undefined;
  return version.split(".").map(Number);
}

/** Pure: whether `a` is at least `b`, part by part (missing parts count as 0). */
function atLeast(a: readonly number[], b: readonly number[]): boolean {
  for (let index = 0; index < Math.max(a.length, b.length); index += 1) {
    const left = a[index] ?? 0;
    const right = b[index] ?? 0;
    if (left !== right) return left > right;
  }
  return true;
}

/** Pure: whether sm `version` resolves symlinks in the udev SR (v3.0.6 and later). */
export function resolvesSymlinks(version: string): boolean {
  const parts = parseSmVersion(version);
  return parts !== undefined && atLeast(parts, FIRST_RESOLVING);
}

/** Throws a clear error for a version the simulator cannot compare. */
export function checkSmVersion(version: string): string {
  if (parseSmVersion(version) === undefined)
    throw new RangeError(
      `smVersion must be dotted whole numbers such as "3.2.3" or "2.30.8" (got "${version}")`,
    );
  return version;
}

/**
 * Pure: host.software_version.product_version of a host running sm `version`: "8.3.0" for sm 3.x
 * and later, "8.2.1" before (our choice of the two XCP-ng releases that ship them).
 */
export function productVersionOf(version: string): string {
  return (parseSmVersion(version)?.[0] ?? 0) >= 3 ? "8.3.0" : "8.2.1";
}

/**
 * Pure: host.software_version of a host running sm `version` (xen-api xapi_globs.ml
 * software_version and create_misc.ml make_software_version name the keys; "xapi" is the xapi
 * package's major.minor). XCP-ng 8.3: xapi 26.4.0 (xcp-ng-rpms/xapi SPECS/xapi.spec); 8.2's
 * xapi 1.249 and both platform versions are what such hosts report to our knowledge (our choice);
 * keys whose values we could not source (xen, linux, db_schema…) are left out.
 */
export function softwareVersionOf(version: string): Record<string, string> {
  const is83 = productVersionOf(version) === "8.3.0";
  return {
    product_version: productVersionOf(version),
    product_version_text: is83 ? "8.3" : "8.2",
    product_version_text_short: is83 ? "8.3" : "8.2",
    platform_name: "XCP",
    platform_version: is83 ? "3.4.0" : "3.2.1",
    product_brand: "XCP-ng",
    xapi: is83 ? "26.4" : "1.249",
    ...(is83 ? { xapi_build: "26.4.0" } : {}),
    network_backend: "openvswitch",
  };
}

/**
 * Pure: whether the xapi a host running sm `version` has (see softwareVersionOf) re-scans when
 * the SR's VDIs changed during sm's scan: xen-api v24.40.0 and later (CA-399757, `xapi_sr.ml`
 * scan); 8.2's xapi 1.249 does not.
 */
export function checksDbDuringScan(version: string): boolean {
  return productVersionOf(version) === "8.3.0";
}
