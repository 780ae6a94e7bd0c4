// The udev rule that gives one whole disk its /dev/xapi/block symlink, so the udev ("Removable
// storage") SR shows it as a VDI. Rendering and recognizing are pure; writing the file, reloading
// and triggering are the lifecycle's job.
//
// How the rule is built, and why:
// - Numbered 65 so it runs after 60-persistent-storage.rules, which sets ID_SERIAL, ID_WWN and the
//   /dev/disk/by-id links this rule matches on.
// - Whole disks only, told apart by ENV{DEVTYPE}=="disk": the stock rules' KERNEL=="*[0-9]"
//   heuristic misreads nvme0n1 or loop3. The kernel name is matched only when it IS the identity.
// - Serial: udev sets ID_SERIAL_SHORT to the drive's own serial for ATA (ata_id), NVMe (where
//   the host's rules have NVMe lines: CentOS 7's systemd 219 has none, so there an NVMe disk has
//   no serial at all) and USB, and ID_SERIAL to a longer "<model>_<serial>" (ATA, NVMe) or
//   "<vendor>_<model>_<serial>-0:0" (USB). SCSI/SAS disks differ: scsi_id sets ID_SERIAL to the
//   page-83 id with its type digit in front ("3" + NAA id) and ID_SERIAL_SHORT to that id alone;
//   the serial on the label (VPD page 0x80) is only in ID_SCSI_SERIAL, which the rule does not
//   match (resolveDisk points a user who gives it to the WWN or the id `disks` prints). Users copy
//   either property from `udevadm info`, so the rule accepts a match on either.
// - WWN: ID_WWN (and ID_WWN_WITH_EXTENSION for 32-digit names), "0x"-prefixed lowercase hex for
//   SCSI/ATA, "eui."/"nvme." names for NVMe.
// - by-id: matched with SYMLINK=="disk/by-id/<name>", i.e. the links earlier rules of the same
//   event set (DEVLINKS is only complete after all rules ran); ENV{DEVLINKS} is matched too, for
//   remove events, where the earlier rules set no links and the database copy is what remains.
// - ACTION=="add|change" for the symlink: with "add" only the symlink vanishes on the change
//   events of a VM or host reboot (upstream fix CA-248228).
// - local-device-change runs on add (introduces the VDI) and remove (forgets it), backgrounded
//   with its output discarded, as in the stock 58-xapi.rules. Not on change: a disk with
//   OPTIONS+="watch" gets a change event whenever a writer closes it, and each run would call
//   `xe vdi-introduce` again. The lifecycle makes sure the VDI exists (SR scan) instead.
// - No check-device-sharing PROGRAM: the lifecycle refuses disks dom0 uses before writing a rule.
// - The symlink's name (SymlinkNaming): where the host's udev SR resolves symlinks (sm >= 3.0.6,
//   core/sm-version.ts), it is named after the disk's identity (stableSymlinkName), so the VDI,
//   whose location is the symlink's path, and the VBD on it survive kernel renames. That form runs
//   no local-device-change: it would introduce /dev/xapi/block/<kernel name>, a second VDI for
//   the disk; the lifecycle's SR scan introduces the VDI instead. Elsewhere (sm 2.x reads the
//   entry's own name as a kernel name) it is the kernel name, %k, as before.
import { createHash } from "node:crypto";
import type { DiskIdentity } from "./inputs.js";
import { diskIdentityOf, diskIdentityParts, describeDisk, type DiskIdentityKind } from "./identity.js";

export const RULES_DIR = "/etc/udev/rules.d";
export const RULE_FILE_PREFIX = "65-xen-passthrough-";
export const XAPI_BLOCK_DIR = "/dev/xapi/block";
export const LOCAL_DEVICE_CHANGE = "/opt/xensource/libexec/local-device-change";
/**
 * Version of the rendered form; bump when the text changes, so old rules read as "edited" and get
 * rewritten. 2 added the stable-name form; the kernel-name form keeps version 1's text byte for
 * byte (KERNEL_NAME_RULE_FORMAT_VERSION), so rules on hosts that keep kernel names stay as they are.
 */
export const RULE_FORMAT_VERSION = 2;
export const KERNEL_NAME_RULE_FORMAT_VERSION = 1;

/** Prefix of stable symlink names: never a kernel name (those have no "-"). */
export const STABLE_NAME_PREFIX = "xp-";

/**
 * How the symlink in /dev/xapi/block is named: after the disk's identity ("stable", hosts whose
 * udev SR resolves symlinks) or after its kernel name ("kernelName", every other host).
 *
 * @example
 * disk.observed.apply((o) => o.symlinkNaming === "stable"); // survives kernel renames
 */
export type SymlinkNaming = "stable" | "kernelName";

const MARKER = /^# pulumi-xen-passthrough rule v([0-9]+): (serial|wwn|byId|kernelName)=(\S+)$/m;
const OWNER_LINE = /^# owned by PassthroughDisk (.+)$/m;

/** A rule ready to be written. */
export interface RenderedRule {
  readonly path: string;
  readonly text: string;
}

/** What udev knows about a whole disk (as `udevadm info --query=property` prints it). */
export interface DiskFacts {
  readonly kernelName: string;
  readonly properties: Readonly<Record<string, string>>;
  /** Symlinks of the device node, from DEVLINKS ("/dev/disk/by-id/..."). */
  readonly links: readonly string[];
}

/**
 * State of our rule file on the host, for drift reports.
 *
 * @example
 * disk.observed.apply((o) => o.ruleStatus === "edited" && console.log("someone edited the rule"));
 */
export type RuleStatus = "ok" | "missing" | "edited";

/** Another rule that already gives the same disk a xapi/block symlink. */
export interface ConflictingRule {
  readonly path: string;
  /** "xen-passthrough" when another PassthroughDisk wrote it, "other" for hand-made rules. */
  readonly writtenBy: "xen-passthrough" | "other";
  /** Why we think it is about this disk, e.g. 'matches ID_SERIAL "S3Z1"'. */
  readonly evidence: string;
  /** Another PassthroughDisk's rule: the identity it was rendered for, and the owner it names. */
  readonly identity?: DiskIdentity;
  readonly owner?: string;
}

/** File-name part for an identity: readable prefix plus a hash, so distinct identities never share a file. */
export function ruleSlug(identity: DiskIdentity): string {
  const { kind, value } = diskIdentityParts(identity);
  const readable = value.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 48);
  const hash = createHash("sha256").update(`${kind}=${value}`).digest("hex").slice(0, 8);
  return `${kind}-${readable}-${hash}`;
}

/** Path of the rule file for an identity. */
export function rulePath(identity: DiskIdentity): string {
  return `${RULES_DIR}/${RULE_FILE_PREFIX}${ruleSlug(identity)}.rules`;
}

/** Path of the /dev/xapi/block entry with this name (a kernel name, or a stable name). */
export function symlinkPath(name: string): string {
  return `${XAPI_BLOCK_DIR}/${name}`;
}

/**
 * The stable symlink name of an identity: "xp-" + kind + "-" + the value as the user wrote it,
 * e.g. "xp-serial-ZS4A1234", "xp-wwn-0x5000c500a1b2c3d4", "xp-byid-ata-ST8000_ZA1". Injective
 * (the kind and the whole value, nothing dropped), and a safe file name and udev SYMLINK value for
 * everything the input patterns allow: letters, digits and "_ . : @ + = -" (all kept by udev's
 * SYMLINK escaping), no "/", no "..", at most 208 bytes. undefined for a kernelName identity: its
 * only name is the kernel name.
 */
export function stableSymlinkName(identity: DiskIdentity): string | undefined {
  const { kind, value } = diskIdentityParts(identity);
  if (kind === "kernelName") return undefined;
  return `${STABLE_NAME_PREFIX}${kind.toLowerCase()}-${value}`;
}

/** The naming a resource uses on a host: stable where the host resolves symlinks and the identity is stable. */
export function symlinkNamingFor(identity: DiskIdentity, hostResolvesSymlinks: boolean): SymlinkNaming {
  return hostResolvesSymlinks && stableSymlinkName(identity) !== undefined ? "stable" : "kernelName";
}

/** The /dev/xapi/block entry name of a disk under a naming. */
export function symlinkName(identity: DiskIdentity, kernelName: string, naming: SymlinkNaming): string {
  return (naming === "stable" ? stableSymlinkName(identity) : undefined) ?? kernelName;
}

/** The naming a rule file of ours uses (by its SYMLINK line). */
export function ruleNaming(text: string): SymlinkNaming {
  return text.includes('SYMLINK+="xapi/block/%k"') ? "kernelName" : "stable";
}

/**
 * Renders the rule for a (checked) identity, its owner (core/owner.ts; without one, the form
 * earlier versions wrote) and the naming (default: the kernel name, which works on every host).
 * Same inputs, same bytes.
 */
export function renderRule(
  identity: DiskIdentity,
  owner?: string,
  naming: SymlinkNaming = "kernelName",
): RenderedRule {
  const { kind, value } = diskIdentityParts(identity);
  const label = `xen_passthrough_${ruleSlug(identity).slice(-8)}`;
  const end = `${label}_end`;
  const match = `${label}_match`;
  const stableName = naming === "stable" ? stableSymlinkName(identity) : undefined;
  const runLocalDeviceChange = `RUN+="/bin/sh -c '${LOCAL_DEVICE_CHANGE} %k >/dev/null 2>&1 &'"`;
  const version = stableName === undefined ? KERNEL_NAME_RULE_FORMAT_VERSION : RULE_FORMAT_VERSION;
  const lines = [
    "# Managed by pulumi-xen-passthrough (PassthroughDisk). Do not edit: `pulumi up` rewrites it,",
    "# `pulumi destroy` removes it.",
    `# Gives the whole disk with ${describeDisk(identity)} the symlink ${XAPI_BLOCK_DIR}/${stableName ?? "<kernel name>"},`,
    "# so the udev SR (Removable storage) shows it as a VDI.",
    ...(stableName === undefined
      ? []
      : ["# The name survives kernel renames (this host's udev SR resolves symlinks, sm >= 3.0.6)."]),
    `# pulumi-xen-passthrough rule v${version}: ${kind}=${value}`,
    ...(owner === undefined ? [] : [`# owned by PassthroughDisk ${owner}`]),
    `SUBSYSTEM!="block", GOTO="${end}"`,
    `ENV{DEVTYPE}!="disk", GOTO="${end}"`,
    ...matchLines(kind, value).map((condition) => `${condition}, GOTO="${match}"`),
    `GOTO="${end}"`,
    `LABEL="${match}"`,
    ...(stableName === undefined
      ? [
          `ACTION=="add|change", SYMLINK+="xapi/block/%k"`,
          `ACTION=="add", ${runLocalDeviceChange}`,
          `ACTION=="remove", ${runLocalDeviceChange}`,
        ]
      : [`ACTION=="add|change", SYMLINK+="xapi/block/${stableName}"`]),
    `LABEL="${end}"`,
  ];
  return { path: rulePath(identity), text: `${lines.join("\n")}\n` };
}

/** Alternative conditions, any of which selects the disk (udev has no "or" within one line). */
function matchLines(kind: DiskIdentityKind, value: string): string[] {
  switch (kind) {
    case "serial":
      return [`ENV{ID_SERIAL_SHORT}=="${value}"`, `ENV{ID_SERIAL}=="${value}"`];
    case "wwn": {
      const wwn = udevWwn(value);
      return [`ENV{ID_WWN}=="${wwn}"`, `ENV{ID_WWN_WITH_EXTENSION}=="${wwn}"`];
    }
    case "byId": {
      const link = `/dev/disk/by-id/${value}`;
      return [
        `SYMLINK=="disk/by-id/${value}"`,
        `ENV{DEVLINKS}=="${link}"`,
        `ENV{DEVLINKS}=="${link} *"`,
        `ENV{DEVLINKS}=="* ${link}"`,
        `ENV{DEVLINKS}=="* ${link} *"`,
      ];
    }
    case "kernelName":
      return [`KERNEL=="${value}"`];
  }
}

/** The WWN as udev spells it: hex names get the "0x" prefix, NVMe/SCSI names stay as they are. Pure. */
export function udevWwn(wwn: string): string {
  const lower = wwn.toLowerCase();
  const hex = lower.replace(/^0x/, "");
  return /^[0-9a-f]+$/.test(hex) ? `0x${hex}` : lower;
}

/** True when the rendered rule selects this disk (the same conditions, evaluated here). */
export function ruleSelectsDisk(identity: DiskIdentity, disk: DiskFacts): boolean {
  const { kind, value } = diskIdentityParts(identity);
  const p = disk.properties;
  switch (kind) {
    case "serial":
      return p["ID_SERIAL_SHORT"] === value || p["ID_SERIAL"] === value;
    case "wwn":
      return [p["ID_WWN"], p["ID_WWN_WITH_EXTENSION"]].includes(udevWwn(value));
    case "byId":
      return disk.links.includes(`/dev/disk/by-id/${value}`);
    case "kernelName":
      return disk.kernelName === value;
  }
}

/** The identity a rule file of ours was rendered for, or undefined for anybody else's file. */
export function ruleIdentity(text: string): DiskIdentity | undefined {
  const marker = MARKER.exec(text);
  if (marker === null) return undefined;
  return diskIdentityOf(marker[2] as DiskIdentityKind, marker[3] ?? "");
}

/** The owner a rule file of ours names; undefined for rules written before owners existed. */
export function ruleOwner(text: string): string | undefined {
  return OWNER_LINE.exec(text)?.[1];
}

/**
 * Compares the file found on the host with what we would write in the naming the file uses (a
 * change of naming is a migration, reported on its own, not an edit).
 */
export function ruleStatus(found: string | undefined, identity: DiskIdentity, owner?: string): RuleStatus {
  if (found === undefined) return "missing";
  return found === renderRule(identity, owner, ruleNaming(found)).text ? "ok" : "edited";
}

/**
 * Rules other than ours (at ownPath) that give this disk a xapi/block symlink: rules of other
 * PassthroughDisks whose identity selects it, and hand-made rules that match one of its names.
 */
export function conflictingRules(
  rules: ReadonlyMap<string, string>,
  disk: DiskFacts,
  ownPath: string,
): ConflictingRule[] {
  const conflicts: ConflictingRule[] = [];
  for (const [path, text] of rules) {
    if (path === ownPath || !text.includes("xapi/block")) continue;
    const identity = ruleIdentity(text);
    if (identity !== undefined) {
      const owner = ruleOwner(text);
      if (ruleSelectsDisk(identity, disk)) {
        conflicts.push({
          path,
          writtenBy: "xen-passthrough",
          evidence: `its rule is for ${describeDisk(identity)}`,
          identity,
          ...(owner === undefined ? {} : { owner }),
        });
      }
      continue;
    }
    const evidence = handMadeEvidence(text, disk);
    if (evidence !== undefined) conflicts.push({ path, writtenBy: "other", evidence });
  }
  return conflicts;
}

/**
 * A match clause that names this disk on a line that also makes the xapi/block symlink (hand-made
 * rules are one line each); undefined when none does. Lines elsewhere, like the stock rules'
 * KERNEL=="*[0-9]" partition skip, say nothing about passing a disk through.
 */
function handMadeEvidence(text: string, disk: DiskFacts): string | undefined {
  const names = diskNames(disk);
  for (const line of text.split("\n")) {
    if (line.trimStart().startsWith("#") || !line.includes("xapi/block")) continue;
    for (const [, key = "", value = ""] of line.matchAll(
      /([A-Z_]+(?:\{[A-Za-z0-9_]+\})?)\s*==\s*"([^"]*)"/g,
    )) {
      const hit = names.find((name) => name.key === key && globMatch(value, name.value));
      if (hit !== undefined) return `matches ${key} "${value}"`;
    }
  }
  return undefined;
}

/** The udev properties by which a rule can name a disk (besides its kernel name and links). */
export const NAMING_PROPERTIES = [
  "ID_SERIAL",
  "ID_SERIAL_SHORT",
  "ID_WWN",
  "ID_WWN_WITH_EXTENSION",
  "ID_PATH",
  "DEVNAME",
] as const;

function diskNames(disk: DiskFacts): { readonly key: string; readonly value: string }[] {
  const names = [
    { key: "KERNEL", value: disk.kernelName },
    { key: "NAME", value: disk.kernelName },
  ];
  for (const key of NAMING_PROPERTIES) {
    const value = disk.properties[key];
    if (value !== undefined) names.push({ key: `ENV{${key}}`, value });
  }
  for (const link of disk.links) {
    names.push({ key: "SYMLINK", value: link.replace(/^\/dev\//, "") });
    names.push({ key: "ENV{DEVLINKS}", value: link });
  }
  return names;
}

/** udev-style glob ("*", "?", "|" alternatives; no character classes) against a value. */
function globMatch(pattern: string, value: string): boolean {
  return pattern.split("|").some((alternative) => {
    const source = alternative
      .replace(/[.+^${}()\\[\]]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    return new RegExp(`^${source}$`).test(value);
  });
}
