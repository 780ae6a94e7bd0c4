// Decides whether `npm run demo` / `npm test` may install the Debian packages the dom0 sandbox
// needs before they run. Pure: the caller supplies what it found on the machine.
import { missingPackages, type Platform, type Tool } from "./prerequisites";

/** What the unit tests need on top of the sandbox's tools (tests/unit/xapi-python). */
export const TEST_TOOLS: readonly Tool[] = [{ program: "python3", debianPackage: "python3" }];

/** The environment variable that turns the automatic install off. */
export const NO_INSTALL_VARIABLE = "XP_NO_APT_INSTALL";

export interface HostFacts {
  readonly platform: Platform;
  /** Whether apt-get is on this machine (Debian or Ubuntu). */
  readonly hasApt: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export type HostPackagesPlan =
  /** Everything is there, or the install is not ours to do: the caller's own check speaks. */
  | { readonly action: "none"; readonly reason: string }
  | { readonly action: "install"; readonly packages: readonly string[] };

/**
 * Installs only as root on Linux with apt, when something is missing and nobody opted out;
 * in every other case the sandbox's own prerequisite check gives its usual message.
 */
export function planHostPackages(facts: HostFacts, tools: readonly Tool[]): HostPackagesPlan {
  const packages = missingPackages(facts.platform, tools);
  if (packages.length === 0) return { action: "none", reason: "everything is installed" };
  const optOut = facts.env[NO_INSTALL_VARIABLE];
  if (optOut !== undefined && optOut !== "" && optOut !== "0") {
    return { action: "none", reason: `${NO_INSTALL_VARIABLE}=${optOut}` };
  }
  if (facts.platform.platform !== "linux") return { action: "none", reason: "not Linux" };
  if (facts.platform.uid !== 0) return { action: "none", reason: "not root" };
  if (!facts.hasApt) return { action: "none", reason: "no apt-get" };
  return { action: "install", packages };
}

/** What the user reads before anything is installed. */
export function installNotice(packages: readonly string[]): string {
  return (
    `xen-passthrough: installing the Debian packages ${packages.join(" ")} for the sandbox host ` +
    `(apt-get install --no-install-recommends; set ${NO_INSTALL_VARIABLE}=1 to skip this)\n`
  );
}
