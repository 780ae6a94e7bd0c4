// What one udev round does to dom0, described once: the requests, the operations they become
// (one per manifest line, in the order dom0/udev-round.ts's script runs them), and their effect
// on dom0's files, links, claims and /dev/xapi/block. The script is what runs on the host; this
// is what lifecycle/after-apply.ts replays instead of a second look, and what the unit tier's
// fake dom0 applies. Pure.
import { XAPI_BLOCK_DIR } from "./rule.js";

export const DISABLED_SUFFIX = ".disabled-by-xen-passthrough";

/** A disk's claim (core/owner.ts): the key and the owner id. */
export interface ClaimOp {
  readonly key: string;
  readonly owner: string;
  /** An earlier owner of the same resource (renamed, or a state of an earlier version): re-pointed. */
  readonly previous?: string;
}

export interface UdevRequest {
  /** Claim the disk before anything else: when another owner holds it, nothing of the request runs. */
  readonly claim?: ClaimOp;
  /** Drop the claim, if this owner holds it. */
  readonly release?: ClaimOp;
  /** Rule files to write (atomically). */
  readonly writes?: readonly { readonly path: string; readonly text: string }[];
  /** Rule files to delete. */
  readonly removes?: readonly string[];
  /** Rule files of others to set aside (adopt): moved to `<path>.disabled-by-xen-passthrough`. */
  readonly disables?: readonly string[];
  /** Rule files set aside earlier to move back (a rolled-back adopt). */
  readonly restores?: readonly string[];
  /** Kernel names of the disks udev must re-evaluate. */
  readonly triggers?: readonly string[];
  /** Symlinks to wait for, each with its own bound (and the disk it resolves to). */
  readonly waits?: readonly {
    readonly path: string;
    readonly timeoutSeconds: number;
    readonly kernelName?: string;
  }[];
  /** Symlinks that must be gone once udev re-evaluated the disks (a removed rule's), each with its bound. */
  readonly waitsGone?: readonly { readonly path: string; readonly timeoutSeconds: number }[];
  /** Files to install atomically, parent directories made (the boot repair's script, unit, record). */
  readonly installs?: readonly {
    readonly path: string;
    readonly text: string;
    readonly executable: boolean;
  }[];
  /** Symlinks to make or re-point (the link that enables the boot repair's unit). */
  readonly links?: readonly { readonly path: string; readonly target: string }[];
  /** Removed at the end of the round if dom0 has no claim left: the host's last passthrough went. */
  readonly removeWhenUnclaimed?: readonly string[];
}

/** One manifest line: an operation of request number `id`. Texts and owners are unescaped here. */
export type RoundOp = { readonly id: number } & (
  | { readonly op: "claim"; readonly key: string; readonly owner: string; readonly previous?: string }
  | { readonly op: "release"; readonly key: string; readonly owner: string }
  | { readonly op: "write"; readonly path: string; readonly text: string }
  | { readonly op: "remove" | "disable" | "restore" | "unclaimed-remove"; readonly path: string }
  | { readonly op: "install"; readonly path: string; readonly text: string; readonly executable: boolean }
  | { readonly op: "link"; readonly path: string; readonly target: string }
  | { readonly op: "trigger"; readonly kernelName: string }
  | { readonly op: "wait" | "wait-gone"; readonly path: string; readonly timeoutSeconds: number }
);

/**
 * The operations of a batch, request i numbered i. Per request: the claim first (it may refuse
 * the rest), the files, then the disks to re-evaluate and the waits, the release last.
 */
export function roundOps(requests: readonly UdevRequest[]): RoundOp[] {
  return requests.flatMap((request, id): RoundOp[] => {
    const { claim, release } = request;
    const each = <T>(list: readonly T[] | undefined, op: (item: T) => RoundOp): RoundOp[] =>
      (list ?? []).map(op);
    return [
      ...(claim === undefined ? [] : [{ id, op: "claim" as const, ...claim }]),
      ...each(request.writes, (w) => ({ id, op: "write", path: w.path, text: w.text })),
      ...each(request.removes, (path) => ({ id, op: "remove", path })),
      ...each(request.disables, (path) => ({ id, op: "disable", path })),
      ...each(request.restores, (path) => ({ id, op: "restore", path })),
      ...each(request.installs, (file) => ({ id, op: "install", ...file })),
      ...each(request.links, (link) => ({ id, op: "link", ...link })),
      ...each(request.removeWhenUnclaimed, (path) => ({ id, op: "unclaimed-remove", path })),
      ...each(request.triggers, (kernelName) => ({ id, op: "trigger", kernelName })),
      ...each(request.waits, (w) => ({ id, op: "wait", path: w.path, timeoutSeconds: w.timeoutSeconds })),
      ...each(request.waitsGone, (w) => ({ id, op: "wait-gone", ...w })),
      ...(release === undefined
        ? []
        : [{ id, op: "release" as const, key: release.key, owner: release.owner }]),
    ];
  });
}

/** The part of dom0 a round touches. */
export interface Dom0Files {
  /** Regular files by path: rules (set-aside ones with their suffix), the boot repair's pieces. */
  readonly files: ReadonlyMap<string, string>;
  /** Symlinks the round makes, by path -> target (the boot repair's enabling link). */
  readonly links: ReadonlyMap<string, string>;
  /** Claims: key -> owner. */
  readonly claims: ReadonlyMap<string, string>;
  /** /dev/xapi/block: entry name -> the kernel name it resolves to. */
  readonly xapiBlock: ReadonlyMap<string, string>;
}

/** udev, as far as a round needs it: the xapi/block name the rules in `files` give a disk, if any. */
export type UdevLinkOf = (kernelName: string, files: ReadonlyMap<string, string>) => string | undefined;

/** What the script reports for a request (dom0/udev-round.ts parseOutcomes reads its lines). */
export type RoundReport = { readonly id: number } & (
  | { readonly kind: "claimed"; readonly holder: string }
  | { readonly kind: "disabled"; readonly path: string }
  | { readonly kind: "timeout" | "lingers"; readonly path: string; readonly timeoutSeconds: number }
);

/**
 * dom0 after a round whose file operations all succeeded (I/O failures are the script's, not
 * modelled here). Operations run in order; a request refused by its claim runs nothing more;
 * files of the host's last passthrough go once no claim is left; each re-evaluated disk keeps
 * only the link its rules make now (udev drops a renamed rule's old link); then the waits are
 * judged. A file the state does not hold is not moved (an inventory lists only some files).
 */
export function applyRound(
  before: Dom0Files,
  ops: readonly RoundOp[],
  linkOf: UdevLinkOf,
): { readonly after: Dom0Files; readonly reports: readonly RoundReport[] } {
  const files = new Map(before.files);
  const links = new Map(before.links);
  const claims = new Map(before.claims);
  const xapiBlock = new Map(before.xapiBlock);
  const reports: RoundReport[] = [];
  const refused = new Set<number>();
  const unclaimed: string[] = [];
  const triggers: string[] = [];
  const waits: Extract<RoundOp, { op: "wait" | "wait-gone" }>[] = [];
  const move = (from: string, to: string): boolean => {
    const text = files.get(from);
    if (text === undefined) return false;
    files.delete(from);
    files.set(to, text);
    return true;
  };
  for (const op of ops) {
    const { id } = op;
    if (refused.has(id)) continue;
    switch (op.op) {
      case "claim": {
        const held = claims.get(op.key);
        if (held === undefined || held === op.owner || held === op.previous) claims.set(op.key, op.owner);
        else {
          reports.push({ id, kind: "claimed", holder: held });
          refused.add(id);
        }
        break;
      }
      case "release":
        if (claims.get(op.key) === op.owner) claims.delete(op.key);
        break;
      case "write":
      case "install":
        files.set(op.path, op.text);
        break;
      case "remove":
        files.delete(op.path);
        links.delete(op.path);
        break;
      case "disable":
        if (move(op.path, `${op.path}${DISABLED_SUFFIX}`))
          reports.push({ id, kind: "disabled", path: op.path });
        break;
      case "restore":
        move(`${op.path}${DISABLED_SUFFIX}`, op.path);
        break;
      case "link":
        links.set(op.path, op.target);
        break;
      case "unclaimed-remove":
        unclaimed.push(op.path);
        break;
      case "trigger":
        triggers.push(op.kernelName);
        break;
      case "wait":
      case "wait-gone":
        waits.push(op);
        break;
    }
  }
  if (claims.size === 0) {
    for (const path of unclaimed) {
      files.delete(path);
      links.delete(path);
    }
  }
  for (const kernelName of triggers) {
    for (const [name, target] of xapiBlock) if (target === kernelName) xapiBlock.delete(name);
    const name = linkOf(kernelName, files);
    if (name !== undefined) xapiBlock.set(name, kernelName);
  }
  for (const wait of waits) {
    const present = xapiBlock.has(wait.path.slice(`${XAPI_BLOCK_DIR}/`.length));
    if (present !== (wait.op === "wait")) {
      const kind = wait.op === "wait" ? "timeout" : "lingers";
      reports.push({ id: wait.id, kind, path: wait.path, timeoutSeconds: wait.timeoutSeconds });
    }
  }
  return { after: { files, links, claims, xapiBlock }, reports };
}
