// One SSH exec applies the rule changes of every concurrent create/update/delete on a host:
// write, remove or set aside rule files, reload udev once, replay a change event for each disk,
// settle, and wait (bounded) for the symlinks. Each request gets its own outcome, so a disk
// that fails fails alone.
import { printfEscaped, printfUnescaped } from "../core/printf-escape.js";
import type { Remote } from "./remote.js";

export { printfEscaped };
import { UdevRoundError } from "./udev-round-error.js";

/** A disk's claim (core/owner.ts): the key, and the owner id as printfEscaped writes it. */
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
  /** Symlinks to wait for, each with its own bound (and the disk it resolves to, for after-apply.ts). */
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

export interface UdevOutcome {
  /** Rules set aside: original path -> where it went. */
  readonly disabled: ReadonlyMap<string, string>;
}

export const DISABLED_SUFFIX = ".disabled-by-xen-passthrough";

// Reads a manifest on stdin: "<request> <op> <arg> [<arg>]". Values are never evaluated: paths
// and kernel names passed the inputs' strict patterns, rule text travels as printf %b escapes
// (printfEscaped). Builtins where it counts: a round for sixteen disks must not cost a hundred
// processes (umask instead of chmod, printf instead of base64, one trigger for every disk).
export const UDEV_ROUND_SCRIPT = String.raw`set -u
umask 022
triggers=""
waits=""
unclaimed=""
claims=/etc/xen-passthrough/claims
refused=" "
while read -r id op a b c; do
  # A request refused by its claim (its first line) runs nothing more.
  case "$refused" in *" $id "*) continue ;; esac
  case "$op" in
    claim)
      # ln -s is atomic and fails when the claim exists: two claimants, in one round or in two
      # processes, are decided here. The owner is the link's target.
      [ -d "$claims" ] || mkdir -p "$claims" && [ -d "$claims" ] || { echo "fail $id could not create $claims"; refused="$refused$id "; continue; }
      if ln -s "$b" "$claims/$a" 2>/dev/null; then :
      else
        held=$(readlink "$claims/$a")
        if [ "$held" = "$b" ]; then :
        elif [ -n "$c" ] && [ "$held" = "$c" ]; then
          ln -sfn "$b" "$claims/$a.xp-tmp.$$" && mv -fT "$claims/$a.xp-tmp.$$" "$claims/$a" || echo "fail $id could not re-point the claim $a"
        else echo "claimed $id $held"; refused="$refused$id "; fi
      fi ;;
    release) [ "$(readlink "$claims/$a")" = "$b" ] && rm -f -- "$claims/$a" ;;
    write)
      tmp="$a.xp-tmp.$$"
      if printf '%b' "$b" > "$tmp" && mv -f "$tmp" "$a"; then :
      else rm -f "$tmp"; echo "fail $id could not write $a"; fi ;;
    remove) rm -f -- "$a" || echo "fail $id could not remove $a" ;;
    disable)
      if mv -f -- "$a" "$a${DISABLED_SUFFIX}"; then echo "disabled $id $a"
      else echo "fail $id could not move $a aside"; fi ;;
    restore) mv -f -- "$a${DISABLED_SUFFIX}" "$a" || echo "fail $id could not move $a back" ;;
    install)
      tmp="$a.xp-tmp.$$"
      if mkdir -p "${"$"}{a%/*}" && printf '%b' "$c" > "$tmp" && chmod "$b" "$tmp" && mv -f "$tmp" "$a"; then :
      else rm -f "$tmp"; echo "fail $id could not install $a"; fi ;;
    link) { mkdir -p "${"$"}{a%/*}" && ln -sfn "$b" "$a"; } || echo "fail $id could not link $a" ;;
    unclaimed-remove) unclaimed="$unclaimed $a" ;;
    trigger) triggers="$triggers $a" ;;
    wait) waits="$waits +:$id:$a:$b" ;;
    wait-gone) waits="$waits -:$id:$a:$b" ;;
  esac
done
# After every release of the round: with no claim left, nothing of ours is passed through here.
if [ -n "$unclaimed" ]; then
  left=""
  for held in "$claims"/*; do [ -L "$held" ] && left=1; done
  [ -z "$left" ] && rm -f -- $unclaimed
fi
udevadm control --reload || echo "fail * udevadm control --reload failed"
matches=""
if [ -n "$triggers" ]; then
  for k in $triggers; do matches="$matches --sysname-match=$k"; done
  # Several --sysname-match select every disk they name. $matches is split on purpose.
  udevadm trigger --action=change --subsystem-match=block $matches || echo "fail * udevadm trigger failed for$triggers"
fi
[ -n "$triggers" ] && { udevadm settle --timeout=30 || true; }
# Seconds since boot (/proc/uptime), not the wall clock: a clock step (NTP, a resumed VM) must
# neither end a wait at once nor stretch it.
read -r start _ < /proc/uptime; start=${"$"}{start%.*}
gap=1; next=$((start + gap))
while [ -n "$waits" ]; do
  left=""
  read -r now _ < /proc/uptime; now=${"$"}{now%.*}
  for w in $waits; do
    # "+" waits for a block device, "-" for nothing at all (not even a dangling link).
    want=${"$"}{w%%:*}; entry=${"$"}{w#*:}
    id=${"$"}{entry%%:*}; rest=${"$"}{entry#*:}; path=${"$"}{rest%:*}; secs=${"$"}{rest##*:}
    if [ "$want" = + ] && [ -b "$path" ]; then :
    elif [ "$want" = - ] && [ ! -e "$path" ] && [ ! -L "$path" ]; then :
    elif [ $((now - start)) -lt "$secs" ]; then left="$left $w"
    elif [ "$want" = + ]; then echo "timeout $id $path $secs"
    else echo "lingers $id $path $secs"; fi
  done
  waits=$left
  [ -n "$waits" ] || break
  # udevd has settled, yet the link is not there (or not gone): seen with systemd-udevd 252 where
  # several udevds share one kernel. Replay the disks' event, backing off (1, 2, 4... s).
  if [ -n "$triggers" ] && [ "$now" -ge "$next" ]; then
    udevadm trigger --action=change --subsystem-match=block $matches || :
    gap=$((gap * 2)); next=$((now + gap))
  fi
  sleep 0.1
done
echo "done"
`;

/** The manifest lines of one batch; request i is numbered i. */
export function renderManifest(requests: readonly UdevRequest[]): string {
  const lines: string[] = [];
  requests.forEach((request, id) => {
    const { claim, release } = request;
    if (claim !== undefined) {
      const previous = claim.previous === undefined ? "" : ` ${printfEscaped(claim.previous)}`;
      lines.push(`${id} claim ${claim.key} ${printfEscaped(claim.owner)}${previous}`);
    }
    for (const write of request.writes ?? []) {
      lines.push(`${id} write ${write.path} ${printfEscaped(write.text)}`);
    }
    for (const path of request.removes ?? []) lines.push(`${id} remove ${path}`);
    for (const path of request.disables ?? []) lines.push(`${id} disable ${path}`);
    for (const path of request.restores ?? []) lines.push(`${id} restore ${path}`);
    for (const file of request.installs ?? []) {
      lines.push(`${id} install ${file.path} ${file.executable ? "755" : "644"} ${printfEscaped(file.text)}`);
    }
    for (const link of request.links ?? []) lines.push(`${id} link ${link.path} ${link.target}`);
    for (const path of request.removeWhenUnclaimed ?? []) lines.push(`${id} unclaimed-remove ${path}`);
    for (const kernelName of request.triggers ?? []) lines.push(`${id} trigger ${kernelName}`);
    for (const wait of request.waits ?? []) lines.push(`${id} wait ${wait.path} ${wait.timeoutSeconds}`);
    for (const wait of request.waitsGone ?? [])
      lines.push(`${id} wait-gone ${wait.path} ${wait.timeoutSeconds}`);
    if (release !== undefined) lines.push(`${id} release ${release.key} ${printfEscaped(release.owner)}`);
  });
  return `${lines.join("\n")}\n`;
}

/**
 * One outcome per request from what the script printed. A failed request's error still carries
 * the rules set aside for it (a rollback moves them back); `script` is the exit status and stderr.
 */
export function parseOutcomes(
  output: string,
  count: number,
  script: { readonly stderr: string; readonly code: number } = { stderr: "", code: 0 },
): (UdevOutcome | UdevRoundError)[] {
  const problems = Array.from({ length: count }, () => [] as string[]);
  const disabled = Array.from({ length: count }, () => new Map<string, string>());
  const claimedBy: (string | undefined)[] = Array.from({ length: count }, () => undefined);
  for (const line of output.split("\n")) {
    const [kind, id = "", ...rest] = line.split(" ");
    const targets = id === "*" ? problems.map((_, i) => i) : [Number(id)];
    for (const index of targets) {
      if (kind === "fail") problems[index]?.push(rest.join(" "));
      if (kind === "claimed") claimedBy[index] = printfUnescaped(rest[0] ?? "");
      if (kind === "disabled") disabled[index]?.set(rest[0] ?? "", `${rest[0] ?? ""}${DISABLED_SUFFIX}`);
      if (kind === "timeout") {
        const [path = "", seconds = ""] = rest;
        // A kernel name is the device itself; a stable name (core/rule.ts) is not.
        const name = path.slice(path.lastIndexOf("/") + 1);
        const device = /^[a-z][a-z0-9]*$/.test(name) ? name : "<the disk's kernel name>";
        problems[index]?.push(
          `udev did not create ${path} within ${seconds} s: check the rule with ` +
            `"udevadm test /sys/class/block/${device}" on the host (or raise symlinkTimeoutSeconds)`,
        );
      }
      if (kind === "lingers") {
        const [path = "", seconds = ""] = rest;
        problems[index]?.push(
          `udev did not remove ${path} within ${seconds} s of its rule going: see which rule still ` +
            `makes it with "udevadm info ${path}" on the host, then run the operation again`,
        );
      }
    }
  }
  const finished = output.split("\n").includes("done");
  const stderr = script.stderr.trim() === "" ? "" : `; stderr: ${script.stderr.trim()}`;
  return problems.map((list, index) => {
    const setAside = disabled[index] ?? new Map<string, string>();
    const holder = claimedBy[index];
    if (holder !== undefined)
      return new UdevRoundError(`the disk is claimed by ${holder}`, setAside, script, holder);
    if (!finished) {
      const printed = `the udev round did not finish (exit status ${script.code}): ${output.trim()}`;
      return new UdevRoundError(`${printed}${stderr}`, setAside, script);
    }
    return list.length > 0
      ? new UdevRoundError(`${list.join("; ")}${stderr}`, setAside, script)
      : { disabled: setAside };
  });
}

export async function runUdevRound(
  remote: Remote,
  requests: readonly UdevRequest[],
): Promise<(UdevOutcome | UdevRoundError)[]> {
  const longestWait = Math.max(
    0,
    ...requests.flatMap((r) => [...(r.waits ?? []), ...(r.waitsGone ?? [])].map((w) => w.timeoutSeconds)),
  );
  const { stdout, stderr, code } = await remote.exec(UDEV_ROUND_SCRIPT, {
    stdin: renderManifest(requests),
    timeoutMs: (longestWait + 60) * 1000,
  });
  return parseOutcomes(stdout, requests.length, { stderr, code });
}
