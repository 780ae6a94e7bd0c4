// The two ways `xen-passthrough disks` prints its report: an aligned table for people, with the
// `disk:` lines to paste into a program, and one JSON document for scripts. Pure.
import { diskIdentityParts } from "../core/identity.js";
import type { DiskIdentity } from "../core/inputs.js";
import type { Attachment, DiskReport, DiskRow } from "./disk-report.js";

/** The TypeScript to paste into PassthroughDiskArgs, e.g. `disk: { serial: "ZS0F2A9200" }`. */
export function pasteLine(identity: DiskIdentity): string {
  const { kind, value } = diskIdentityParts(identity);
  return `disk: { ${kind}: ${JSON.stringify(value)} }`;
}

/** 64 MiB, 1.8 TiB: binary units, as lsblk and XenCenter show sizes. */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit] ?? "B"}`;
}

/** One line on what the disk is doing: free, used by dom0, or passed through (to which VM). */
export function statusOf(row: DiskRow): string {
  if (row.dom0Use !== undefined) return `in use by dom0: ${row.dom0Use}`;
  const passthrough = row.passthrough;
  if (passthrough === undefined) return "free";
  const handMade = passthrough.rules.filter((rule) => rule.writtenBy === "other").map((rule) => rule.path);
  const byHand = handMade.length > 0 ? ` (hand-made rule ${handMade.join(", ")})` : "";
  if (passthrough.attachments.length > 0) {
    return `${passthrough.attachments.map(describeAttachment).join("; ")}${byHand}`;
  }
  if (passthrough.symlinks.length > 0) {
    return `exposed as ${passthrough.symlinks.join(", ")}, attached to no VM${byHand}`;
  }
  return `rule ${passthrough.rules.map((rule) => rule.path).join(", ")} but no /dev/xapi/block symlink yet`;
}

function describeAttachment(a: Attachment): string {
  const slot = a.device === "" ? `userdevice ${a.userdevice}` : a.device;
  const owner = a.managedBy === undefined ? "VBD not made by xen-passthrough" : "PassthroughDisk";
  return `passed through to VM "${a.vm.nameLabel}" (${slot}, ${a.attached ? "attached" : "not attached"}, ${owner})`;
}

/** The report as a table, then the identities to paste, then warnings. */
export function formatTable(report: DiskReport): string {
  const header = ["DISK", "SIZE", "MODEL", "SERIAL", "WWN", "BY-ID", "STATUS"];
  const rows = report.disks.map((row) => [
    row.kernelName,
    formatSize(row.sizeBytes),
    row.model ?? "-",
    row.serial ?? "-",
    row.wwn ?? "-",
    row.byId ?? "-",
    statusOf(row),
  ]);
  const lines = [
    `Disks of ${report.target} (host ${report.hostUuid}):`,
    "",
    ...alignColumns([header, ...rows]),
  ];
  if (report.disks.length === 0) lines.push("(no whole disks found)");
  lines.push("", "To pass a disk through, paste its identity into the PassthroughDisk's arguments:");
  const pastes = report.disks.map((row) => [row.kernelName, pasteLine(row.identity), pasteNote(row)]);
  lines.push(...alignColumns(pastes).map((line) => `  ${line}`));
  for (const warning of report.warnings) lines.push("", `warning: ${warning}`);
  return `${lines.join("\n")}\n`;
}

/** Why not to paste it, or what to know first; "" when nothing. */
function pasteNote(row: DiskRow): string {
  // A disk dom0 uses is refused anyway: its identity's stability does not matter.
  if (row.dom0Use !== undefined) return "# dom0 uses it: the provider refuses it";
  const notes = [
    row.passthrough === undefined ? undefined : "already passed through",
    row.identityWarning === undefined ? undefined : `warning: ${row.identityWarning}`,
  ].filter((note) => note !== undefined);
  return notes.length === 0 ? "" : `# ${notes.join("; ")}`;
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/** The report for scripts: every key always present (null when unknown), sizes in bytes. */
export function formatJson(report: DiskReport): string {
  const document = {
    target: report.target,
    hostUuid: report.hostUuid,
    removableStorageSr: report.removableStorageSr ?? null,
    disks: report.disks.map((row) => ({
      kernelName: row.kernelName,
      sizeBytes: row.sizeBytes,
      model: row.model ?? null,
      serial: row.serial ?? null,
      wwn: row.wwn ?? null,
      byId: row.byId ?? null,
      byIds: row.byIds,
      identity: row.identity,
      paste: pasteLine(row.identity),
      identityWarning: row.identityWarning ?? null,
      inUseByDom0: row.dom0Use !== undefined,
      dom0Use: row.dom0Use ?? null,
      passedThrough: row.passthrough !== undefined,
      passthrough:
        row.passthrough === undefined
          ? null
          : {
              symlinks: row.passthrough.symlinks,
              rules: row.passthrough.rules,
              attachments: row.passthrough.attachments.map((a) => ({ ...a, managedBy: a.managedBy ?? null })),
            },
      status: statusOf(row),
    })),
    warnings: report.warnings,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
