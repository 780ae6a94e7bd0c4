// A fake of the two-method `Remote` (dom0/remote.ts) that models dom0 in memory: its disks, the
// udev rules files, and the /dev/xapi/block symlinks udev makes for them. It answers exactly the
// provider's scripts (dom0/scripts.ts): the inventory, from the model; the udev round, by
// applying its manifest to the model; PassthroughUsb's INSTALLATION_UUID read, from `hostUuid`.
// It is also the XAPI simulator's device directory, so the udev SR's scan sees the symlinks it holds. Any other script is refused.
//
// The model of udev is ours, and small: a change event gives a disk its symlink when some *.rules
// file mentions xapi/block and names the disk (ID_SERIAL / ID_SERIAL_SHORT or its kernel name),
// and takes it away otherwise; `udevIgnoresRules` makes udev match nothing, as with a broken rule.
import {
  BOOT_REPAIR_MARKER_PREFIX,
  BOOT_REPAIR_RECORDS_DIR,
  BOOT_REPAIR_SCRIPT_PATH,
  BOOT_REPAIR_STATE_DIR,
  BOOT_REPAIR_UNIT,
  BOOT_REPAIR_WANTS,
} from "#provider/core/boot-repair.js";
import type { Remote } from "#provider/dom0/remote.js";
import { DOM0_SCRIPTS } from "#provider/dom0/scripts.js";
import { DISABLED_SUFFIX } from "#provider/dom0/udev-round.js";
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
  /** Claims of /etc/xen-passthrough/claims: key -> owner, as the round's manifest escaped it. */
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
    return new Map([...this.files].filter(([path]) => path.endsWith(".rules")));
  }

  private inventory(): string {
    const lines = [
      "@xensource",
      `INSTALLATION_UUID='${this.hostUuid}'`,
      "@sm",
      this.smVersion ?? "package sm is not installed",
      "@root 8:1",
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
    for (const [key, owner] of this.claims) lines.push(`${key} ${owner}`);
    for (const [path, text] of this.rules()) {
      if (!text.includes("xapi/block")) continue;
      lines.push(`@rule ${path}`, `|${text.split("\n").join("\n|")}`);
    }
    lines.push("@bootrepair");
    for (const [kind, path] of [
      ["unit", BOOT_REPAIR_UNIT],
      ["script", BOOT_REPAIR_SCRIPT_PATH],
    ] as const) {
      const marker = this.files
        .get(path)
        ?.split("\n")
        .find((line) => line.startsWith(BOOT_REPAIR_MARKER_PREFIX));
      if (marker !== undefined) lines.push(`marker ${kind} ${marker.slice(marker.lastIndexOf(" ") + 1)}`);
    }
    const wants = this.links.get(BOOT_REPAIR_WANTS);
    if (wants !== undefined) lines.push(`wants ${wants}`);
    for (const [path, text] of this.files) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      if (path.startsWith(`${BOOT_REPAIR_RECORDS_DIR}/`))
        lines.push(`@bootrecord ${name}`, `|${text.split("\n").join("\n|")}`);
      if (path.startsWith(`${BOOT_REPAIR_STATE_DIR}/failed/`))
        lines.push(`@bootfailed ${name} ${text.split("\n")[0] ?? ""}`);
    }
    lines.push("@end");
    return `${lines.join("\n")}\n`;
  }

  private udevRound(manifest: string): string {
    const out: string[] = [];
    const triggers: string[] = [];
    const waits: { id: string; path: string; seconds: string }[] = [];
    const refused = new Set<string>();
    const unclaimed: string[] = [];
    for (const line of manifest.split("\n").filter(Boolean)) {
      const [id = "", op = "", a = "", b = "", c = ""] = line.split(" ");
      if (refused.has(id)) continue;
      if (op === "claim") {
        const held = this.claims.get(a);
        if (held === undefined || held === b || (c !== "" && held === c)) this.claims.set(a, b);
        else {
          out.push(`claimed ${id} ${held}`);
          refused.add(id);
        }
      }
      if (op === "release" && this.claims.get(a) === b) this.claims.delete(a);
      const writing = ["write", "remove", "disable", "restore", "install", "link", "unclaimed-remove"];
      if (!WRITABLE.some((allowed) => a.startsWith(allowed)) && writing.includes(op))
        throw new Error(`fake dom0: ${op} outside what the provider may write: ${a}`);
      if (op === "write") this.files.set(a, unescapePrintf(b));
      if (op === "install") this.files.set(a, unescapePrintf(c));
      if (op === "link") this.links.set(a, b);
      if (op === "unclaimed-remove") unclaimed.push(a);
      if (op === "remove") this.files.delete(a);
      if (op === "disable") this.move(a, `${a}${DISABLED_SUFFIX}`, () => out.push(`disabled ${id} ${a}`));
      if (op === "restore") this.move(`${a}${DISABLED_SUFFIX}`, a, () => undefined);
      if (op === "trigger") triggers.push(a);
      if (op === "wait") waits.push({ id, path: a, seconds: b });
    }
    if (this.claims.size === 0) {
      for (const path of unclaimed) {
        this.files.delete(path);
        this.links.delete(path);
      }
    }
    for (const kernelName of triggers) {
      const disk = this.disks.find((d) => d.kernelName === kernelName);
      // udev keeps only the links the rules make now (a renamed rule drops the old one).
      for (const [name, target] of this.symlinks) if (target === kernelName) this.symlinks.delete(name);
      const name = disk === undefined ? undefined : this.linkName(disk);
      if (name !== undefined) this.symlinks.set(name, kernelName);
    }
    for (const wait of waits) {
      if (!this.symlinks.has(wait.path.slice(XAPI_BLOCK.length)))
        out.push(`timeout ${wait.id} ${wait.path} ${wait.seconds}`);
    }
    out.push("done");
    return `${out.join("\n")}\n`;
  }

  private move(from: string, to: string, moved: () => void): void {
    const text = this.files.get(from);
    if (text === undefined) return;
    this.files.delete(from);
    this.files.set(to, text);
    moved();
  }

  /** The xapi/block name a rule selecting the disk gives it: %k, or the name the rule spells out. */
  private linkName(disk: FakeDisk): string | undefined {
    if (this.udevIgnoresRules) return undefined;
    const text = [...this.rules().values()].find(
      (rule) =>
        rule.includes("xapi/block") &&
        (rule.includes(`=="${disk.serial}"`) || rule.includes(`KERNEL=="${disk.kernelName}"`)),
    );
    if (text === undefined) return undefined;
    const name = /SYMLINK\+="xapi\/block\/([^"]+)"/.exec(text)?.[1] ?? "%k";
    return name === "%k" ? disk.kernelName : name;
  }
}

/** What bash's `printf %b` makes of the \0nnn escapes the manifest carries. */
function unescapePrintf(escaped: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i += 1) {
    if (escaped[i] === "\\" && escaped[i + 1] === "0") {
      bytes.push(parseInt(escaped.slice(i + 2, i + 5), 8));
      i += 4;
    } else bytes.push(escaped.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8");
}
