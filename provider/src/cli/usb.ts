// `xen-passthrough usb`: one SSH connection and one XAPI session (the provider's own adapters),
// dom0's host uuid, one round of XAPI reads, then the report.
import { closeAll, describeTarget, hostSession } from "../adapters/index.js";
import { dom0HostUuid } from "../dom0/host-uuid.js";
import { fetchUsbSnapshot } from "../xapi/usb.js";
import type { DisksOptions } from "./args.js";
import { CLI_SETTING_NAMES, resolveConnection } from "./connection.js";
import type { CliIo } from "./disks.js";
import { buildUsbReport, formatUsbJson, formatUsbTable } from "./usb-report.js";

export async function listUsbDevices(options: DisksOptions, io: CliIo): Promise<void> {
  const { spec, xapi } = await resolveConnection(options, io);
  const target = describeTarget(spec);
  try {
    const session = await hostSession(spec, xapi, (line) => io.stderr(`${line}\n`), CLI_SETTING_NAMES);
    const hostUuid = await dom0HostUuid(session.remote, target);
    const report = buildUsbReport(target, await fetchUsbSnapshot(session.xapi), hostUuid);
    io.stdout(options.json ? formatUsbJson(report) : formatUsbTable(report));
  } finally {
    await closeAll();
  }
}
