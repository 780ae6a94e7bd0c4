import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

import { SandboxError } from "./errors";

/** A program the dom0 sandbox runs, and the Debian package that provides it. */
export interface Tool {
  program: string;
  debianPackage: string;
}

export const TOOLS: readonly Tool[] = [
  { program: "unshare", debianPackage: "util-linux" },
  { program: "nsenter", debianPackage: "util-linux" },
  { program: "setpriv", debianPackage: "util-linux" },
  { program: "flock", debianPackage: "util-linux" },
  { program: "losetup", debianPackage: "mount" },
  { program: "mount", debianPackage: "mount" },
  { program: "mkfs.ext4", debianPackage: "e2fsprogs" },
  { program: "udevadm", debianPackage: "udev" },
  { program: "/usr/lib/systemd/systemd-udevd", debianPackage: "udev" },
  { program: "/usr/sbin/sshd", debianPackage: "openssh-server" },
  { program: "ssh-keygen", debianPackage: "openssh-client" },
];

/** Needed only to hash a root password when password login is asked for. */
export const PASSWORD_TOOLS: readonly Tool[] = [{ program: "perl", debianPackage: "perl-base" }];

export interface Platform {
  platform: NodeJS.Platform;
  uid: number | undefined;
  /** Finds a program: absolute paths as they are, bare names on PATH. */
  which(program: string): string | undefined;
}

/** Pure: the Debian packages providing the tools that are missing, sorted, each once. */
export function missingPackages(platform: Platform, tools: readonly Tool[]): string[] {
  const packages = new Set<string>();
  for (const tool of tools) {
    if (platform.which(tool.program) === undefined) packages.add(tool.debianPackage);
  }
  return [...packages].sort();
}

/** Pure: what is missing to run the sandbox on this platform, as human-readable items. */
export function missingPrerequisites(platform: Platform, tools: readonly Tool[]): string[] {
  const missing: string[] = [];
  if (platform.platform !== "linux") missing.push(`Linux (this is ${platform.platform})`);
  if (platform.uid !== 0) missing.push("root (run it with sudo or as root)");
  const packages = missingPackages(platform, tools);
  if (packages.length > 0) {
    const list = packages.join(" ");
    missing.push(`the Debian packages ${list} (install them: apt-get install -y ${list})`);
  }
  return missing;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The platform this process runs on. */
export function currentPlatform(): Platform {
  const searchPath = (process.env["PATH"] ?? "").split(delimiter).concat(["/usr/sbin", "/sbin"]);
  return {
    platform: process.platform,
    uid: typeof process.getuid === "function" ? process.getuid() : undefined,
    which(program) {
      if (program.startsWith("/")) return isExecutable(program) ? program : undefined;
      return searchPath.map((dir) => join(dir, program)).find(isExecutable);
    },
  };
}

/** Fails fast, before anything is created, saying what is missing and how to get it. */
export function assertPrerequisites(tools: readonly Tool[], platform = currentPlatform()): void {
  const missing = missingPrerequisites(platform, tools);
  if (missing.length === 0) return;
  throw new SandboxError(
    "PREREQUISITES_MISSING",
    { missing: missing.join("; ") },
    `the dom0 sandbox needs ${missing.join("; ")}. ` +
      "Only the XAPI simulator runs without them (`xen-sandbox xapi`).",
  );
}
