// dom0's inventory as the files a udev round touches (core/udev-round.ts), and back: what
// dom0/inventory.ts's script would report of them. Lets a round be replayed on a look instead of
// looking again. Pure.
import type { BootRepairFound } from "./boot-repair.js";
import { BOOT_REPAIR_FILES as FILES, BOOT_REPAIR_MARKER_PREFIX } from "./boot-repair.js";
import type { Dom0Inventory } from "./dom0-inventory.js";
import type { Dom0Files } from "./udev-round.js";

const RULES_DIR = "/etc/udev/rules.d/";
const FAILED_DIR = `${FILES.state}/failed/`;

/**
 * The files the inventory tells of. Of the unit and the script it knows only the version marker:
 * a marker line stands for each.
 */
export function dom0FilesOf(inventory: Dom0Inventory): Dom0Files {
  const { bootRepair } = inventory;
  const marked = (path: string, marker: string): [string, string][] =>
    marker === "" ? [] : [[path, `${BOOT_REPAIR_MARKER_PREFIX}${marker}\n`]];
  return {
    files: new Map([
      ...inventory.passthroughRules,
      ...marked(FILES.unit, bootRepair.unitMarker),
      ...marked(FILES.script, bootRepair.scriptMarker),
      ...[...bootRepair.records].map(([name, text]): [string, string] => [`${FILES.records}/${name}`, text]),
      ...[...bootRepair.failures].map(([name, why]): [string, string] => [`${FAILED_DIR}${name}`, why]),
    ]),
    links: new Map(bootRepair.enabled ? [[FILES.wants, FILES.unit]] : []),
    claims: inventory.claims,
    xapiBlock: inventory.xapiBlock,
  };
}

/**
 * What the inventory reports of `files`. Rules: the *.rules files (a set-aside one has lost the
 * suffix udev reads); they mention xapi/block, as the inventory lists only those and the round
 * writes only ours.
 */
export function inventoryOfFiles(
  state: Dom0Files,
): Pick<Dom0Inventory, "passthroughRules" | "claims" | "xapiBlock" | "bootRepair"> {
  const under = (dir: string): [string, string][] =>
    [...state.files]
      .filter(([path]) => path.startsWith(dir) && !path.slice(dir.length).includes("/"))
      .map(([path, text]) => [path.slice(dir.length), text]);
  const bootRepair: BootRepairFound = {
    unitMarker: markerOf(state.files.get(FILES.unit)),
    scriptMarker: markerOf(state.files.get(FILES.script)),
    enabled: state.links.get(FILES.wants) === FILES.unit,
    records: new Map(under(`${FILES.records}/`)),
    failures: new Map(under(FAILED_DIR).map(([name, text]) => [name, text.split("\n")[0] ?? ""])),
  };
  return {
    passthroughRules: new Map(
      under(RULES_DIR)
        .filter(([name]) => name.endsWith(".rules"))
        .map(([name, text]) => [`${RULES_DIR}${name}`, text]),
    ),
    claims: state.claims,
    xapiBlock: state.xapiBlock,
    bootRepair,
  };
}

/** The version on the file's marker line ("" when it has none), as the inventory script reads it. */
function markerOf(text: string | undefined): string {
  const line = text?.split("\n").find((l) => l.startsWith(BOOT_REPAIR_MARKER_PREFIX));
  return line === undefined ? "" : line.slice(line.lastIndexOf(" ") + 1);
}
