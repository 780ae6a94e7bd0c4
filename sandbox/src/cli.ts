// `xen-sandbox start [--hosts H] [--disks N|N,M,..] [--json]` and `xen-sandbox xapi [--json]`: start, describe
// (one JSON line with --json), run until SIGINT/SIGTERM, then remove everything.
import { randomUUID } from "node:crypto";

import type { SandboxDescription } from "./dom0/description";
import { startPool } from "./dom0/pool";
import { startSandbox } from "./dom0/sandbox";
import { startXapiSimulator } from "./xapi";

export type CliCommand =
  | {
      command: "start";
      disks: number;
      json: boolean;
      hosts?: number;
      disksPerHost?: number[];
      /** One version for every host, or one per host. */
      smVersion?: string | string[];
    }
  | { command: "xapi"; json: boolean }
  | { command: "help" };

export const USAGE = `Usage:
  xen-sandbox start [--disks N] [--json]   simulated XenServer host: XAPI simulator + dom0 sandbox (root, Linux)
  xen-sandbox start --hosts H [--disks N|N,M,..] [--json]
                                           a pool of H hosts (master first), one dom0 each; --disks N
                                           gives N disks to every host, a list one count per host;
                                           default 4 each, but none on the last host of 3 or more
      [--sm-version V|V,W,..]              the storage manager version dom0's rpm reports: 3.2.3
                                           (default: XCP-ng 8.3, symlinks resolved) or 2.30.8
                                           (XCP-ng 8.2); a list gives one per host
  xen-sandbox xapi [--json]                the XAPI simulator alone (no root needed)
Both run until SIGINT/SIGTERM, then remove everything they made.`;

/** Pure: parses the command line; an error message for anything it does not understand. */
export function parseCliArgs(argv: readonly string[]): CliCommand | { error: string } {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h")
    return { command: "help" };
  if (command !== "start" && command !== "xapi") return { error: `unknown command "${command}"` };
  let json = false;
  let disks = 4;
  let hosts: number | undefined;
  let disksPerHost: number[] | undefined;
  let smVersion: string | string[] | undefined;
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index];
    if (arg === "--json") {
      json = true;
    } else if (arg === "--disks" && command === "start") {
      const value = rest[++index];
      const counts = value?.split(",") ?? [];
      if (value === undefined || counts.some((count) => !/^\d+$/.test(count) || Number(count) > 32)) {
        return {
          error: `--disks needs a whole number from 0 to 32, or a list of them (got ${value ?? "nothing"})`,
        };
      }
      if (counts.length === 1) disks = Number(value);
      else disksPerHost = counts.map(Number);
    } else if (arg === "--sm-version" && command === "start") {
      const value = rest[++index];
      const versions = value?.split(",") ?? [];
      if (value === undefined || versions.some((version) => !/^\d+(\.\d+)*$/.test(version))) {
        return {
          error: `--sm-version needs a version such as 3.2.3 or 2.30.8, or a list (got ${value ?? "nothing"})`,
        };
      }
      smVersion = versions.length === 1 ? value : versions;
    } else if (arg === "--hosts" && command === "start") {
      const value = rest[++index];
      if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 16) {
        return { error: `--hosts needs a whole number from 1 to 16 (got ${value ?? "nothing"})` };
      }
      hosts = Number(value);
    } else {
      return { error: `unknown option "${arg}" for ${command}` };
    }
  }
  if (command !== "start") return { command, json };
  if (disksPerHost !== undefined && disksPerHost.length !== (hosts ?? 1))
    return { error: `--disks lists ${disksPerHost.length} hosts, --hosts gives ${hosts ?? 1}` };
  if (Array.isArray(smVersion) && smVersion.length !== (hosts ?? 1))
    return { error: `--sm-version lists ${smVersion.length} hosts, --hosts gives ${hosts ?? 1}` };
  const explicitDisks = rest.includes("--disks");
  const sm = smVersion === undefined ? {} : { smVersion };
  return hosts === undefined
    ? { command, disks, json, ...sm }
    : {
        command,
        disks,
        json,
        hosts,
        ...sm,
        ...(explicitDisks
          ? { disksPerHost: disksPerHost ?? Array.from({ length: hosts }, () => disks) }
          : {}),
      };
}

/** Pure: the human summary printed without --json. */
export function summarize(
  description: Partial<SandboxDescription> & Pick<SandboxDescription, "xapi" | "host" | "vms" | "controlUrl">,
): string {
  const lines = [
    `XAPI      ${description.xapi.url}  user ${description.xapi.username} password ${description.xapi.password}`,
    `          TLS SHA-256 ${description.xapi.tlsFingerprint}`,
    `control   ${description.controlUrl}`,
    `host      ${description.host.nameLabel} (${description.host.uuid})`,
  ];
  if (description.ssh !== undefined) {
    const ssh = description.ssh;
    lines.push(`ssh       ssh -i ${ssh.privateKeyPath} -p ${ssh.port} ${ssh.user}@${ssh.host}`);
    lines.push(`          host key ${ssh.hostKey}`);
  }
  for (const vm of description.vms) lines.push(`vm        ${vm.nameLabel} (${vm.uuid}) ${vm.powerState}`);
  for (const disk of description.disks ?? []) {
    const use = disk.inUse ? "  in use by dom0" : "";
    lines.push(
      `disk      /dev/${disk.kernelName} ${disk.byId || "-"} ${disk.wwn || "-"} ${disk.sizeBytes} bytes${use}`,
    );
  }
  lines.push("Press Ctrl-C to stop and remove everything.");
  return lines.join("\n");
}

/**
 * Resolves at the first SIGINT or SIGTERM. Installed before anything starts, so that a signal
 * during start-up still leads to a full stop, and further signals during the stop are ignored.
 */
function catchStopSignals(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.on("SIGINT", () => resolve("SIGINT"));
    process.on("SIGTERM", () => resolve("SIGTERM"));
  });
}

async function serve(
  describe: () => object,
  json: boolean,
  stop: () => Promise<void>,
  summary: string,
  signalled: Promise<NodeJS.Signals>,
): Promise<void> {
  process.stdout.write(`${json ? JSON.stringify(describe()) : summary}\n`);
  await signalled;
  await stop();
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCliArgs(argv);
  if ("error" in parsed) {
    process.stderr.write(`xen-sandbox: ${parsed.error}\n${USAGE}\n`);
    return 2;
  }
  const signalled = catchStopSignals();
  try {
    if (parsed.command === "help") {
      process.stdout.write(`${USAGE}\n`);
    } else if (parsed.command === "start" && parsed.hosts !== undefined) {
      const pool = await startPool({
        hosts: parsed.hosts,
        ...(parsed.disksPerHost === undefined ? {} : { disks: parsed.disksPerHost }),
        ...(parsed.smVersion === undefined ? {} : { smVersion: parsed.smVersion }),
      });
      const summary = pool.hosts
        .map(
          (host) =>
            `${host.isMaster ? "master" : "member"} ${host.host.nameLabel}\n${summarize(host.describe())}`,
        )
        .join("\n");
      await serve(
        () => pool.describe(),
        parsed.json,
        () => pool.stop(),
        summary,
        signalled,
      );
    } else if (parsed.command === "start") {
      const smVersion = Array.isArray(parsed.smVersion) ? parsed.smVersion[0] : parsed.smVersion;
      const sandbox = await startSandbox({
        disks: parsed.disks,
        ...(smVersion === undefined ? {} : { smVersion }),
      });
      await serve(
        () => sandbox.describe(),
        parsed.json,
        () => sandbox.stop(),
        summarize(sandbox.describe()),
        signalled,
      );
    } else {
      const simulator = await startXapiSimulator({ hostUuid: randomUUID() });
      const describe = () => ({
        xapi: {
          url: simulator.url,
          username: simulator.username,
          password: simulator.password,
          tlsFingerprint: simulator.tlsFingerprint,
        },
        host: { uuid: simulator.host.uuid, nameLabel: simulator.host.nameLabel },
        vms: simulator.vms.map((vm) => ({
          uuid: vm.uuid,
          nameLabel: vm.nameLabel,
          powerState: vm.powerState,
        })),
        controlUrl: simulator.controlUrl,
      });
      await serve(describe, parsed.json, () => simulator.stop(), summarize(describe()), signalled);
    }
    process.removeAllListeners("SIGINT").removeAllListeners("SIGTERM");
    return 0;
  } catch (error) {
    process.stderr.write(`xen-sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
