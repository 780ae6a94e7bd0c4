// `xen-passthrough disks`: one SSH connection and one XAPI session (the provider's own
// adapters), one inventory exec on dom0, a few XAPI reads, then the report.
import { closeAll, describeTarget, hostSession } from "../adapters/index.js";
import { RefusedError } from "../core/errors.js";
import { NO_REMOVABLE_STORAGE_SR } from "../core/refusals.js";
import { readInventory } from "../dom0/inventory.js";
import type { DisksOptions } from "./args.js";
import type { CliEnvironment } from "./connection.js";
import { CLI_SETTING_NAMES, resolveConnection } from "./connection.js";
import { formatJson, formatTable } from "./disk-format.js";
import { buildDiskReport } from "./disk-report.js";
import { readXapiView } from "./xapi-view.js";

export interface CliIo extends CliEnvironment {
  stdout(text: string): void;
  stderr(text: string): void;
}

export async function listDisks(options: DisksOptions, io: CliIo): Promise<void> {
  const { spec, xapi } = await resolveConnection(options, io);
  const target = describeTarget(spec);
  try {
    const session = await hostSession(spec, xapi, (line) => io.stderr(`${line}\n`), CLI_SETTING_NAMES);
    const inventory = await readInventory(session.remote);
    const hostUuid = inventory.xensource["INSTALLATION_UUID"];
    if (hostUuid === undefined || hostUuid === "") {
      throw new RefusedError(
        "NOT_A_DOM0",
        { target },
        `${target} has no INSTALLATION_UUID in /etc/xensource-inventory: is it a XenServer / XCP-ng host (dom0)?`,
      );
    }
    const view = await readXapiView(session.xapi, hostUuid);
    const report = buildDiskReport(target, inventory, view, {
      all: options.all,
      noSrWarning: NO_REMOVABLE_STORAGE_SR,
    });
    io.stdout(options.json ? formatJson(report) : formatTable(report));
  } finally {
    await closeAll();
  }
}
