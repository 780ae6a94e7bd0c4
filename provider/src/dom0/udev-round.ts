// One SSH exec applies the rule changes of every concurrent create/update/delete on a host:
// write, remove or set aside rule files, reload udev once, replay a change event for each disk,
// settle, and wait (bounded) for the symlinks. Each request gets its own outcome, so a disk
// that fails fails alone.
import { printfEscaped, printfUnescaped } from "../core/printf-escape.js";
import { DISABLED_SUFFIX, roundOps, type RoundOp, type UdevRequest } from "../core/udev-round.js";
import type { Remote } from "./remote.js";
import { UdevRoundError } from "./udev-round-error.js";

export { printfEscaped, DISABLED_SUFFIX };
export type { ClaimOp, UdevRequest } from "../core/udev-round.js";

export interface UdevOutcome {
  /** Rules set aside: original path -> where it went. */
  readonly disabled: ReadonlyMap<string, string>;
}

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

/** The manifest of one batch (core/udev-round.ts roundOps): one line per operation. */
export function renderManifest(requests: readonly UdevRequest[]): string {
  return `${roundOps(requests).map(manifestLine).join("\n")}\n`;
}

/** "<request> <op> <arg> [<arg>]", texts and owners escaped for printf %b. */
function manifestLine(op: RoundOp): string {
  const head = `${op.id} ${op.op}`;
  switch (op.op) {
    case "claim": {
      const previous = op.previous === undefined ? "" : ` ${printfEscaped(op.previous)}`;
      return `${head} ${op.key} ${printfEscaped(op.owner)}${previous}`;
    }
    case "release":
      return `${head} ${op.key} ${printfEscaped(op.owner)}`;
    case "write":
      return `${head} ${op.path} ${printfEscaped(op.text)}`;
    case "install":
      return `${head} ${op.path} ${op.executable ? "755" : "644"} ${printfEscaped(op.text)}`;
    case "link":
      return `${head} ${op.path} ${op.target}`;
    case "trigger":
      return `${head} ${op.kernelName}`;
    case "wait":
    case "wait-gone":
      return `${head} ${op.path} ${op.timeoutSeconds}`;
    default:
      return `${head} ${op.path}`;
  }
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
