// A fake of the two-method `Remote` (dom0/remote.ts) that models dom0 in memory: its disks, the
// udev rules files, and the /dev/xapi/block symlinks udev makes for them. It answers exactly the
// provider's scripts (dom0/scripts.ts): the inventory, from the model; the udev round, by
// parsing its manifest and applying the round's one description (core/udev-round.ts) to the
// model; PassthroughUsb's INSTALLATION_UUID read, from `hostUuid`. It is also the XAPI
// simulator's device directory, so the udev SR's scan sees the symlinks it holds. Any other
// script is refused.
//
// The model of udev is ours, and small: a change event gives a disk its symlink when some *.rules
// file mentions xapi/block and names the disk (ID_SERIAL / ID_SERIAL_SHORT or its kernel name),
// and takes it away otherwise; `udevIgnoresRules` makes udev match nothing, as with a broken rule.
import {
  BOOT_REPAIR_RECORDS_DIR,
  BOOT_REPAIR_SCRIPT_PATH,
  BOOT_REPAIR_STATE_DIR,
  BOOT_REPAIR_UNIT,
  BOOT_REPAIR_WANTS,
} from "#provider/core/boot-repair.js";
import type { Remote } from "#provider/dom0/remote.js";
import { DOM0_SCRIPTS } from "#provider/dom0/scripts.js";
import { printfEscaped, printfUnescaped } from "#provider/core/printf-escape.js";
import { inventoryOfFiles } from "#provider/core/dom0-files.js";
import { applyRound, type Dom0Files, type RoundOp } from "#provider/core/udev-round.js";
import type { DeviceDirectory, DeviceEntry } from "xen-sandbox";

export interface FakeDisk {
  readonly kernelName: string;
  /** "MAJ:MIN" */
  readonly devNumber: string;
  readonly sizeBytes: number;
  readonly serial: string;
}

const BOOT_DISK: FakeDisk = {
  kernelName: "sda",
  devNumber: "8:0",
  sizeBytes: 64 * 1024 ** 3,
  serial: "BOOT-0",
};
const RULES_DIR = "/etc/udev/rules.d/";
/** Where the round may write besides the rules: the boot repair's pieces (core/boot-repair.ts). */
const WRITABLE = [
  RULES_DIR,
  `${BOOT_REPAIR_RECORDS_DIR}/`,
  `${BOOT_REPAIR_STATE_DIR}/`,
  BOOT_REPAIR_UNIT,
  BOOT_REPAIR_WANTS,
  BOOT_REPAIR_SCRIPT_PATH,
];
const XAPI_BLOCK = "/dev/xapi/block/";

export class FakeDom0 implements Remote, DeviceDirectory {
  hostUuid = "";
  /** What `rpm -q --qf '%{VERSION}\n' sm` prints (undefined: rpm has no sm package). */
  smVersion: string | undefined;
  readonly disks: FakeDisk[] = [BOOT_DISK];
  /** Files of /etc/udev/rules.d and the boot repair's: path -> content (set-aside files keep their suffix). */
  readonly files = new Map<string, string>();
  /** Symlinks the round made (the boot repair's wants link): path -> target. */
  readonly links = new Map<string, string>();
  /** Claims of /etc/xen-passthrough/claims: key -> owner. */
  readonly claims = new Map<string, string>();
  /** /dev/xapi/block: entry name -> the kernel name it resolves to (a kernel name names itself). */
  readonly symlinks = new Map<string, string>();
  /** udev matches no rule (a rule that does not select the disk): symlink waits time out. */
  udevIgnoresRules = false;
  /** The udev round script dies before its end (connection cut, shell killed), exit status 255. */
  roundsDie = false;
  /** Scripts run, by name ("inventory", "udevRound", "hostUuid"), in order. */
  readonly ran: string[] = [];

  addDisk(kernelName: string, serial: string, minor: number): FakeDisk {
    const disk = { kernelName, devNumber: `8:${minor}`, sizeBytes: 8 * 1024 ** 3, serial };
    this.disks.push(disk);
    return disk;
  }

  /**
   * A host reboot as udev sees it: the disks come back under the given kernel names (by serial;
   * two serials may swap names), /dev is fresh, and coldplug makes each disk's links again.
   */
  renameDisks(names: Readonly<Record<string, string>>): void {
    this.disks.forEach((disk, i) => {
      const kernelName = names[disk.serial];
      if (kernelName !== undefined) this.disks[i] = { ...disk, kernelName };
    });
    this.symlinks.clear();
    for (const disk of this.disks) {
      const name = this.linkName(disk);
      if (name !== undefined) this.symlinks.set(name, disk.kernelName);
    }
  }

  run(script: string): Promise<string> {
    if (script === DOM0_SCRIPTS.hostUuid) {
      this.ran.push("hostUuid");
      // sed prints the uuid's line, or nothing when the inventory has none.
      return Promise.resolve(this.hostUuid === "" ? "" : `${this.hostUuid}\n`);
    }
    if (script !== DOM0_SCRIPTS.inventory) return Promise.reject(new Error("fake dom0: unknown script"));
    this.ran.push("inventory");
    return Promise.resolve(this.inventory());
  }

  exec(
    script: string,
    options: { stdin?: string } = {},
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    // Over SSH every script is an exec (adapters/ssh.ts run is exec plus the exit code check).
    if (script === DOM0_SCRIPTS.inventory || script === DOM0_SCRIPTS.hostUuid)
      return this.run(script).then((stdout) => ({ stdout, stderr: "", code: 0 }));
    if (script !== DOM0_SCRIPTS.udevRound) return Promise.reject(new Error("fake dom0: unknown script"));
    this.ran.push("udevRound");
    if (this.roundsDie) return Promise.resolve({ stdout: "", stderr: "bash: killed", code: 255 });
    return Promise.resolve({ stdout: this.udevRound(options.stdin ?? ""), stderr: "", code: 0 });
  }

  /** The udev SR's view of /dev/xapi/block. */
  list(): Promise<DeviceEntry[]> {
    return Promise.resolve(
      [...this.symlinks].flatMap(([name, kernelName]) =>
        this.disks
          .filter((disk) => disk.kernelName === kernelName)
          .map((disk) => ({
            name,
            location: `${XAPI_BLOCK}${name}`,
            sizeBytes: disk.sizeBytes,
            nameLabel: `SCSI ${disk.devNumber}`,
          })),
      ),
    );
  }

  /** Rules files udev reads (*.rules). */
  rules(): Map<string, string> {
    return rulesIn(this.files);
  }

  private inventory(): string {
    const lines = [
      "@xensource",
      `INSTALLATION_UUID='${this.hostUuid}'`,
      "@sm",
      this.smVersion ?? "package sm is not installed",
      "@rootdev 2049",
      "@mountinfo",
      "8:1 /",
      "@swaps",
    ];
    for (const disk of this.disks) {
      lines.push(`@disk ${disk.kernelName} ${disk.devNumber} ${disk.sizeBytes / 512}`);
      if (disk === BOOT_DISK) lines.push("partition sda1 8:1");
    }
    lines.push("@udevdb");
    for (const disk of this.disks) {
      lines.push(`P: /block/${disk.kernelName}`, `E: DEVNAME=/dev/${disk.kernelName}`, "E: DEVTYPE=disk");
      lines.push(`E: ID_SERIAL=${disk.serial}`, `E: ID_SERIAL_SHORT=${disk.serial}`);
    }
    lines.push("@xapiblock");
    for (const [name, kernelName] of this.symlinks) lines.push(`${name} ../../${kernelName}`);
    lines.push("@claims");
    for (const [key, owner] of this.claims) lines.push(`${key} ${printfEscaped(owner)}`);
    // What the inventory reports of the files is described once (core/dom0-files.ts); here it is
    // printed as the inventory script prints it, for the real parser to read.
    const block = (text: string) => `|${text.split("\n").join("\n|")}`;
    const seen = inventoryOfFiles(this.state());
    for (const [path, text] of seen.passthroughRules)
      if (text.includes("xapi/block")) lines.push(`@rule ${path}`, block(text));
    const { unitMarker, scriptMarker, enabled, records, failures } = seen.bootRepair;
    lines.push("@bootrepair");
    if (unitMarker !== "") lines.push(`marker unit ${unitMarker}`);
    if (scriptMarker !== "") lines.push(`marker script ${scriptMarker}`);
    if (enabled) lines.push(`wants ${BOOT_REPAIR_UNIT}`);
    for (const [name, text] of records) lines.push(`@bootrecord ${name}`, block(text));
    for (const [name, why] of failures) lines.push(`@bootfailed ${name} ${why}`);
    lines.push("@end");
    return `${lines.join("\n")}\n`;
  }

  private state(): Dom0Files {
    return { files: this.files, links: this.links, claims: this.claims, xapiBlock: this.symlinks };
  }

  /** The round's one description (core/udev-round.ts) applied to the model, reported as the script prints. */
  private udevRound(manifest: string): string {
    const ops = manifest.split("\n").filter(Boolean).map(parseManifestLine);
    for (const op of ops) {
      if (
        "path" in op &&
        !op.op.startsWith("wait") &&
        !WRITABLE.some((allowed) => op.path.startsWith(allowed))
      )
        throw new Error(`fake dom0: ${op.op} outside what the provider may write: ${op.path}`);
    }
    const { after, reports } = applyRound(this.state(), ops, (kernelName, files) => {
      const disk = this.disks.find((d) => d.kernelName === kernelName);
      return disk === undefined ? undefined : this.linkName(disk, files);
    });
    replace(this.files, after.files);
    replace(this.links, after.links);
    replace(this.claims, after.claims);
    replace(this.symlinks, after.xapiBlock);
    const lines = reports.map((report) => {
      switch (report.kind) {
        case "claimed":
          return `claimed ${report.id} ${printfEscaped(report.holder)}`;
        case "disabled":
          return `disabled ${report.id} ${report.path}`;
        default:
          return `${report.kind} ${report.id} ${report.path} ${report.timeoutSeconds}`;
      }
    });
    return `${[...lines, "done"].join("\n")}\n`;
  }

  /** The xapi/block name a rule selecting the disk gives it: %k, or the name the rule spells out. */
  private linkName(disk: FakeDisk, files: ReadonlyMap<string, string> = this.files): string | undefined {
    if (this.udevIgnoresRules) return undefined;
    const text = [...rulesIn(files).values()].find(
      (rule) =>
        rule.includes("xapi/block") &&
        (rule.includes(`=="${disk.serial}"`) || rule.includes(`KERNEL=="${disk.kernelName}"`)),
    );
    if (text === undefined) return undefined;
    const name = /SYMLINK\+="xapi\/block\/([^"]+)"/.exec(text)?.[1] ?? "%k";
    return name === "%k" ? disk.kernelName : name;
  }
}

function rulesIn(files: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...files].filter(([path]) => path.endsWith(".rules")));
}

function replace<K, V>(target: Map<K, V>, source: ReadonlyMap<K, V>): void {
  const entries = [...source];
  target.clear();
  for (const [key, value] of entries) target.set(key, value);
}

/** A manifest line (dom0/udev-round.ts renderManifest) as the operation it stands for. */
function parseManifestLine(line: string): RoundOp {
  const [idText = "", op = "", a = "", b = "", c = ""] = line.split(" ");
  const id = Number(idText);
  switch (op) {
    case "claim":
      return {
        id,
        op,
        key: a,
        owner: printfUnescaped(b),
        ...(c === "" ? {} : { previous: printfUnescaped(c) }),
      };
    case "release":
      return { id, op, key: a, owner: printfUnescaped(b) };
    case "write":
      return { id, op, path: a, text: printfUnescaped(b) };
    case "install":
      return { id, op, path: a, executable: b === "755", text: printfUnescaped(c) };
    case "link":
      return { id, op, path: a, target: b };
    case "trigger":
      return { id, op, kernelName: a };
    case "wait":
    case "wait-gone":
      return { id, op, path: a, timeoutSeconds: Number(b) };
    case "remove":
    case "disable":
    case "restore":
    case "unclaimed-remove":
      return { id, op, path: a };
    default:
      throw new Error(`fake dom0: unknown manifest line: ${line}`);
  }
}
