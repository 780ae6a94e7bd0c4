/**
 * The floor's probe: a minimal client (this process, ssh2 already loaded, nothing else to do)
 * takes, on one host through its latency proxy, the steps any client of the host must take, and
 * times each alone: an SSH connection's set-up, an exec of `true`, and one udev round for the
 * layout's disks on the host (write the rules, reload, trigger those disks, wait for the links)
 * and its removal (remove the rules, reload, trigger, wait for the links to go).
 *
 * Its links go to /dev/bench-floor, not /dev/xapi/block: the host's udev SR never sees them, and
 * udev does the same work for any symlink. Its rule files are its own, removed before the probe
 * ends, so the scenarios that follow find the host as before.
 */
import type { Client } from "ssh2";
import type { ProbeSample } from "./host-costs";
import { dial, execOn, type SshTarget } from "./ssh-command";

/** What the probe needs of one disk. */
export interface ProbeDisk {
  readonly serial: string;
  /** /dev/disk/by-id/... of the disk. */
  readonly byId: string;
}

export const PROBE_LINK_DIR = "/dev/bench-floor";

export function probeRulePath(serial: string): string {
  return `/etc/udev/rules.d/65-bench-floor-${serial}.rules`;
}

const q = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Parallel reloads on hosts that share one kernel fail now and then with EAGAIN (udevd's control
 * socket is busy): retried, as every client must.
 */
const RELOAD = `tries=0
until udevadm control --reload 2>/dev/null; do
  tries=$((tries + 1)); [ "$tries" -le 100 ] || { echo "udevadm control --reload kept failing" >&2; exit 4; }
  sleep 0.05
done`;

/**
 * Triggers the disks and waits for their events alone (`trigger --settle`, systemd 238 and later;
 * an older udevadm refuses the option and the probe triggers plainly), then waits for every link
 * to be there (`want=present`) or gone: udevds of several sandboxes share one kernel, and now and
 * then a settled event has not made its link yet, so the event is replayed each second, as the
 * provider does.
 */
function triggerAndWait(kernelNames: readonly string[], want: "present" | "gone"): string {
  const matches = kernelNames.map((name) => `--sysname-match=${q(name)}`).join(" ");
  const links = kernelNames.map((name) => q(`${PROBE_LINK_DIR}/${name}`)).join(" ");
  const ready =
    want === "present" ? `[ -L "$l" ] || missing=1` : `{ [ ! -e "$l" ] && [ ! -L "$l" ]; } || missing=1`;
  return `udevadm trigger --settle --action=change --subsystem-match=block ${matches} 2>/dev/null ||
  udevadm trigger --action=change --subsystem-match=block ${matches}
tries=0
while :; do
  missing=
  for l in ${links}; do ${ready}; done
  [ -z "$missing" ] && break
  tries=$((tries + 1)); [ "$tries" -le 1000 ] || { echo "udev left the probe's links not ${want}" >&2; exit 3; }
  [ $((tries % 100)) -eq 0 ] && udevadm trigger --action=change --subsystem-match=block ${matches}
  sleep 0.01
done`;
}

export function udevAddScript(disks: readonly ProbeDisk[], kernelNames: readonly string[]): string {
  const writes = disks.map((disk) => {
    const rule = `SUBSYSTEM=="block", ENV{ID_SERIAL_SHORT}=="${disk.serial}", SYMLINK+="${PROBE_LINK_DIR.slice("/dev/".length)}/%k"`;
    return `printf '%s\\n' ${q(rule)} > ${q(probeRulePath(disk.serial))}`;
  });
  return ["set -eu", "umask 022", ...writes, RELOAD, triggerAndWait(kernelNames, "present"), ""].join("\n");
}

export function udevRemoveScript(disks: readonly ProbeDisk[], kernelNames: readonly string[]): string {
  const rules = disks.map((disk) => q(probeRulePath(disk.serial))).join(" ");
  return ["set -eu", `rm -f ${rules}`, RELOAD, triggerAndWait(kernelNames, "gone"), ""].join("\n");
}

/** One probe of one host for the given disks (the layout's disks on that host). */
export async function probeHost(target: SshTarget, disks: readonly ProbeDisk[]): Promise<ProbeSample> {
  const where = `${target.host}:${target.port}`;
  const dialled = performance.now();
  const client = await dial(target);
  const sshSetupMs = performance.now() - dialled;
  // A reset can still arrive after we are done with the connection: nothing to report.
  client.on("error", () => undefined);
  try {
    const bareExecMs = await timed(client, "true", `the floor's probe: \`true\` on ${where}`);
    // Untimed: the kernel names behind the by-id links (a real client learns them in its look).
    const resolved = await execOn(
      client,
      `readlink -f ${disks.map((disk) => q(disk.byId)).join(" ")}`,
      `the floor's probe: resolving the disks on ${where}`,
    );
    const kernelNames = resolved
      .trim()
      .split("\n")
      .map((path) => path.slice(path.lastIndexOf("/") + 1));
    if (kernelNames.length !== disks.length || kernelNames.some((name) => name.length === 0)) {
      throw new Error(`the floor's probe could not resolve the disks on ${where}: got "${resolved.trim()}"`);
    }
    let udevAddMs: number;
    try {
      udevAddMs = await timed(
        client,
        udevAddScript(disks, kernelNames),
        `the floor's udev round on ${where}`,
      );
    } catch (error) {
      // Leave no rule of the probe behind, whatever failed.
      await execOn(client, udevRemoveScript(disks, kernelNames), "cleanup").catch(() => undefined);
      throw error;
    }
    const udevRemoveMs = await timed(
      client,
      udevRemoveScript(disks, kernelNames),
      `the floor's udev removal round on ${where}`,
    );
    return { sshSetupMs, bareExecMs, udevAddMs, udevRemoveMs };
  } finally {
    client.end();
  }
}

async function timed(client: Client, command: string, what: string): Promise<number> {
  const started = performance.now();
  await execOn(client, command, what);
  return performance.now() - started;
}
