// dom0's disks, rules and symlinks, and its sm version, in one SSH exec. The script avoids lsblk -J and other recent
// tools: XCP-ng 8.x dom0 runs a CentOS 7 userspace (util-linux 2.23). core/dom0-inventory.ts
// parses what it prints.
import {
  BOOT_REPAIR_MARKER_PREFIX,
  BOOT_REPAIR_RECORDS_DIR,
  BOOT_REPAIR_SCRIPT_PATH,
  BOOT_REPAIR_STATE_DIR,
  BOOT_REPAIR_UNIT,
  BOOT_REPAIR_WANTS,
} from "../core/boot-repair.js";
import type { Dom0Inventory } from "../core/dom0-inventory.js";
import { parseInventory } from "../core/dom0-inventory.js";
import type { Remote } from "./remote.js";

/**
 * Prints sections "@name [arg]" followed by their lines. Static text, sent on stdin: nothing
 * is interpolated into it, so no input can inject into it.
 */
export const INVENTORY_SCRIPT = String.raw`set -u
export LC_ALL=C
# The storage manager's version says whether the udev SR resolves symlinks (core/sm-version.ts).
# rpm opens its database, the slowest step here: it runs while the rest of the look does. No rpm,
# or no sm package: whatever prints is not a version, and kernel names are used.
exec 4< <(rpm -q --qf '%{VERSION}\n' sm 2>/dev/null)
echo "@xensource"
# Builtins where a process would do: each one costs dom0 a fork and an exec on every look.
if [ -r /etc/xensource-inventory ]; then
  while IFS= read -r l || [ -n "$l" ]; do echo "$l"; done < /etc/xensource-inventory
fi
echo "@sm"
while IFS= read -r l <&4; do echo "$l"; done
exec 4<&-
echo "@mountinfo"
# One cut, not a read loop: dom0 may have hundreds of mounts.
cut -d' ' -f3,5 /proc/self/mountinfo
echo "@swaps"
if [ -r /proc/swaps ]; then
  { read -r _; while read -r f _; do readlink -f "$f"; done; } < /proc/swaps
fi
# Builtins only in this loop: a host may have dozens of block devices (tapdisks, dm, loop).
for sys in /sys/block/*; do
  k=${"$"}{sys##*/}
  read -r dev < "$sys/dev"
  read -r size < "$sys/size"
  echo "@disk $k $dev $size"
  for p in "$sys/$k"*; do
    [ -e "$p/partition" ] || continue
    read -r pdev < "$p/dev"
    echo "partition ${"$"}{p##*/} $pdev"
    for h in "$p"/holders/*; do [ -e "$h" ] && echo "holder ${"$"}{h##*/}"; done
  done
  for h in "$sys"/holders/*; do [ -e "$h" ] && echo "holder ${"$"}{h##*/}"; done
done
# Whole disks' udev properties, as "udevadm info --export-db" prints them. udev's database is read
# directly where it is (systemd's udev, /run/udev/data): a udevadm process costs more than every
# read of this loop together.
echo "@udevdb"
udevdata=/run/udev/data
if [ -d "$udevdata" ]; then
  for sys in /sys/block/*; do
    k=${"$"}{sys##*/}
    read -r dev < "$sys/dev"
    echo "P: /block/$k"
    # The kernel's own properties (DEVNAME, DEVTYPE, MAJOR...), as udevadm adds them.
    while IFS= read -r l; do
      case "$l" in
        DEVNAME=*) echo "E: DEVNAME=/dev/${"$"}{l#DEVNAME=}" ;;
        *=*) echo "E: $l" ;;
      esac
    done < "$sys/uevent"
    [ -r "$udevdata/b$dev" ] || continue
    links=""
    while IFS= read -r l; do
      case "$l" in
        E:*) echo "E: ${"$"}{l#E:}" ;;
        S:*) links="$links /dev/${"$"}{l#S:}" ;;
      esac
    done < "$udevdata/b$dev"
    [ -n "$links" ] && echo "E: DEVLINKS=${"$"}{links# }"
  done
else
  udevadm info --export-db 2>/dev/null | awk '/^P: /{disk = ($2 ~ /\/block\/[^\/]+$/)} disk'
fi
# Below, no process per entry: a host may have dozens of symlinks and rules files.
# One find for three things, each of which cost dom0 a process of its own: the device number of
# the filesystem on / (st_dev in decimal, which core/dom0-inventory.ts splits into MAJ:MIN), our
# links in /dev/xapi/block, and the claims on disks (core/owner.ts: symlinks named by the disk's
# key, pointing at the owner). A folder that is missing prints nothing, not even its header.
find / /dev/xapi/block /etc/xen-passthrough/claims -maxdepth 1 \
  \( -path / -printf '@rootdev %D\n' -prune \) \
  -o \( -path /dev/xapi/block -printf '@xapiblock\n' \) \
  -o \( -path '/dev/xapi/block/*' -printf '%f %l\n' \) \
  -o \( -path /etc/xen-passthrough/claims -printf '@claims\n' \) \
  -o \( -path '/etc/xen-passthrough/claims/*' -type l -printf '%f %l\n' \) 2>/dev/null
# Rules files that mention xapi/block, each line prefixed by "|"; the last "|" line holds what
# follows the final newline, so the text comes back exactly. The newline is in $nl: before 4.3
# (dom0 has 4.2), bash may keep quotes from a $'\n' in a double-quoted replacement (its CHANGES).
nl=$'\n'
for r in /etc/udev/rules.d/*.rules; do
  [ -f "$r" ] || continue
  IFS= read -r -d '' text < "$r"
  case "$text" in *xapi/block*) ;; *) continue ;; esac
  echo "@rule $r"
  printf '|%s\n' "${"$"}{text//$nl/$nl|}"
done
# The boot repair (dom0/boot-repair.ts): version markers of the unit and the (executable)
# script, the link that enables the unit, the records, and what failed at the last boot.
echo "@bootrepair"
for f in ${BOOT_REPAIR_UNIT} ${BOOT_REPAIR_SCRIPT_PATH}; do
  [ -f "$f" ] || continue
  case "$f" in *.service) kind=unit ;; *) kind=script; [ -x "$f" ] || continue ;; esac
  while IFS= read -r l; do
    case "$l" in "${BOOT_REPAIR_MARKER_PREFIX}"*) echo "marker $kind ${"$"}{l##* }"; break ;; esac
  done < "$f"
done
[ -L ${BOOT_REPAIR_WANTS} ] && echo "wants $(readlink ${BOOT_REPAIR_WANTS})"
for r in ${BOOT_REPAIR_RECORDS_DIR}/*; do
  [ -f "$r" ] || continue
  IFS= read -r -d '' text < "$r"
  echo "@bootrecord ${"$"}{r##*/}"
  printf '|%s\n' "${"$"}{text//$nl/$nl|}"
done
for r in ${BOOT_REPAIR_STATE_DIR}/failed/*; do
  [ -f "$r" ] || continue
  IFS= read -r l < "$r"
  echo "@bootfailed ${"$"}{r##*/} $l"
done
echo "@end"
`;

/** Everything we need to know about dom0's disks, rules and symlinks, in one SSH exec. */
export async function readInventory(remote: Remote): Promise<Dom0Inventory> {
  return parseInventory(await remote.run(INVENTORY_SCRIPT, { timeoutMs: 60_000 }));
}
