// Decides whether the host tier (tests/host: real udevd, sshd, loop devices) can run here.
// XP_HOST_TIER=required (CI) turns "cannot run" into a failure; XP_HOST_TIER=off skips it on purpose.
const { existsSync } = require("node:fs");

const NEEDS = [
  ["/usr/lib/systemd/systemd-udevd", "Debian package udev"],
  ["/usr/sbin/sshd", "Debian package openssh-server"],
  ["/usr/bin/ssh-keygen", "Debian package openssh-client"],
  ["/usr/bin/unshare", "Debian package util-linux"],
  ["/usr/sbin/losetup", "Debian package mount"],
];

function missingPrerequisites() {
  const missing = [];
  if (process.platform !== "linux") missing.push("Linux");
  if (typeof process.getuid === "function" && process.getuid() !== 0) missing.push("root");
  for (const [path, from] of NEEDS) if (!existsSync(path)) missing.push(`${path} (${from})`);
  return missing;
}

function hostTier() {
  const mode = process.env.XP_HOST_TIER ?? "auto";
  if (mode === "off") return { run: false, reason: "XP_HOST_TIER=off" };
  const missing = missingPrerequisites();
  if (missing.length === 0) return { run: true };
  const reason = `the host tier needs ${missing.join(", ")}`;
  if (mode === "required") {
    throw new Error(`XP_HOST_TIER=required but ${reason}. Install them (see .ci/run) or run as root.`);
  }
  const bar = "!".repeat(78);
  process.stderr.write(
    `\n${bar}\n!! HOST TIER NOT RUN: ${reason}.\n!! Only unit tests run. Run as root on Linux with them installed (see .ci/run).\n${bar}\n\n`,
  );
  return { run: false, reason };
}

module.exports = { hostTier };
