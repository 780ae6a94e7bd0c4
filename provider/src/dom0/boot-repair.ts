// The boot repair's script and systemd unit (core/boot-repair.ts says why it exists). Both are
// static text: what differs per passthrough is in its record, which the script reads. The
// version marker is a hash of both texts, so any change to either reads as "outdated" on hosts
// that have the old one, and `pulumi up` rewrites it.
//
// What the script does, in order (docs/host.md "Host reboots and symlink names"): at this
// point of the boot xapi runs and has plugged the udev SR's PBD, which scanned the SR (sm's
// after_master_attach): a vanished name's VDI is already forgotten, and XAPI's database GC may
// or may not have destroyed its VBDs yet. So the script works from its own records.
// 1. For each record, where its disk is now: the /dev/xapi/block entry whose device udev
//    describes with the record's matchers (ID_SERIAL..., a by-id link, or the kernel name).
// 2. Each VBD with the record's tag whose VDI location does not hold that disk any more (VDI
//    gone, or another disk: a swap) is written to a pending entry, then destroyed. If the
//    destroy fails, the symlink is removed, so that no VM attaches another disk through it (its
//    VM then fails to start instead). A record with no tagged VBD at all (the GC destroyed it)
//    gets a pending entry from its own "vbd" line.
// 3. One SR scan (only when something is pending): VDIs follow the new names.
// 4. For each pending entry, the VBD again (same VM, userdevice, mode, bootable, unpluggable when
//    known, tags) on the VDI where its disk is now. A pending entry outlives a failed run: the
//    next boot finishes it, unless the provider has made the VBD meanwhile.
// Every step is logged to stdout (the journal) and to the log file; a failure is also left in
// <state>/failed/<record> for refresh to report; the exit status is 1 if anything failed.
// Only CentOS 7 dom0 tools (bash 4.2, systemd 219 udevadm, coreutils 8.22): no functions, no
// arrays, no process substitution (tests/unit/dom0-tools-compat.test.ts holds it to that).
import { createHash } from "node:crypto";
import {
  BOOT_REPAIR_LOG,
  BOOT_REPAIR_MARKER_PREFIX,
  BOOT_REPAIR_RECORDS_DIR,
  BOOT_REPAIR_SCRIPT_PATH,
  BOOT_REPAIR_STATE_DIR,
} from "../core/boot-repair.js";
import { XAPI_BLOCK_DIR } from "../core/rule.js";
import { VBD_OWNER_KEY, VBD_TAG_KEY } from "../core/owner.js";

// The record of passthrough $name, read into $tag, $want (its "vbd" line) and $owner. Written
// into the script where it is needed: the script has no shell functions (see above).
const READ_RECORD = String.raw`    tag=""
    want=""
    owner=""
    while read -r key value; do
      case "$key" in
        tag) tag=$value ;;
        vbd) want=$value ;;
        owner) owner=$value ;;
      esac
    done < "$records/$name"`;

const SCRIPT_BODY = String.raw`set -u
# Installed by pulumi-xen-passthrough (PassthroughDisk) on a host whose storage manager does not
# resolve /dev/xapi/block symlinks (XCP-ng 8.2 / XenServer 8.2 CU1). Run once at boot by
# xen-passthrough-boot-repair.service, after xapi's init and before VMs auto-start: it moves each
# passed-through disk's VBD to the VDI where the disk is after a kernel rename, and never leaves
# one on another disk. Removed with the host's last PassthroughDisk (pulumi destroy).
export LC_ALL=C
PATH=/opt/xensource/bin:/usr/sbin:/usr/bin:/sbin:/bin
records=${BOOT_REPAIR_RECORDS_DIR}
state=${BOOT_REPAIR_STATE_DIR}
log=${BOOT_REPAIR_LOG}
nl=$'\n'
{
  echo "xen-passthrough boot repair ${"$"}{0##*/} started $(date -u '+%Y-%m-%d %H:%M:%S') UTC"
  failed=0
  mkdir -p "$state/pending" "$state/failed" || failed=1
  rm -f "$state"/failed/*
  names=""
  for record in "$records"/*; do [ -f "$record" ] && names="$names ${"$"}{record##*/}"; done
  if [ -z "$names" ]; then
    rm -f "$state"/pending/*
    echo "no passthrough records in $records: nothing to do"
    exit 0
  fi
  host=""
  while IFS="=" read -r key value; do
    [ "$key" = INSTALLATION_UUID ] && host=${"$"}{value//\'/}
  done < /etc/xensource-inventory
  # This host's udev SR for disks ("Removable storage", not the DVD drives' udev SR): the one with
  # a PBD on this host.
  sr=""
  srs=$(xe sr-list type=udev sm-config:type=block --minimal) || failed=1
  for s in ${"$"}{srs//,/ }; do
    [ -n "$(xe pbd-list sr-uuid="$s" host-uuid="$host" --minimal)" ] && sr=$s
  done
  if [ -z "$sr" ]; then
    echo "FAILED: host $host has no udev SR (Removable storage) with a PBD: nothing can be repaired"
    for name in $names; do echo "the host has no udev SR" > "$state/failed/$name"; done
    exit 1
  fi

  # 1. Where each record's disk is now: "<record>=<location>" words.
  found=" "
  for loc in ${XAPI_BLOCK_DIR}/*; do
    [ -b "$loc" ] || continue
    props=$(udevadm info --query=property --name="$loc" 2>/dev/null) || continue
    device=$(readlink -f "$loc")
    links=" "
    while IFS= read -r p; do
      case "$p" in DEVLINKS=*) links=" ${"$"}{p#DEVLINKS=} " ;; esac
    done <<< "$props"
    for name in $names; do
      hit=0
      while read -r key value; do
        [ "$key" = match ] || continue
        case "$value" in
          E:*) case "$nl$props$nl" in *"$nl${"$"}{value#E:}$nl"*) hit=1 ;; esac ;;
          L:*) case "$links" in *" ${"$"}{value#L:} "*) hit=1 ;; esac ;;
          K:*) [ "/dev/${"$"}{value#K:}" = "$device" ] && hit=1 ;;
        esac
      done < "$records/$name"
      [ "$hit" = 1 ] && found="$found$name=$loc "
    done
  done
  echo "disks found:$found"

  # 2. VBDs whose VDI location no longer holds their disk: recorded as pending, then destroyed.
  for name in $names; do
${READ_RECORD}
    if [ -z "$tag" ]; then
      echo "FAILED: $records/$name has no tag line"
      echo "its record has no tag" > "$state/failed/$name"
      failed=1
      continue
    fi
    if ! vbds=$(xe vbd-list other-config:${VBD_TAG_KEY}="$tag" params=uuid --minimal); then
      echo "FAILED: could not list the VBDs of $name"
      echo "xe vbd-list failed" > "$state/failed/$name"
      failed=1
      continue
    fi
    if [ -z "$vbds" ] && [ -n "$want" ]; then
      # XAPI's GC has destroyed the VBD (its VDI was forgotten by the boot scan): the record says
      # which VBD to make again ("-": unpluggable as XAPI's default, as the provider created it).
      read -r vm userdevice mode bootable <<< "$want"
      echo "$name $vm $userdevice $mode $bootable - none" > "$state/pending/record.$name" || failed=1
      echo "no VBD of $name is left (VM $vm, device $userdevice): re-created from its record"
    fi
    for vbd in ${"$"}{vbds//,/ }; do
      if ! { vm=$(xe vbd-param-get uuid="$vbd" param-name=vm-uuid) &&
        vdi=$(xe vbd-param-get uuid="$vbd" param-name=vdi-uuid) &&
        userdevice=$(xe vbd-param-get uuid="$vbd" param-name=userdevice) &&
        mode=$(xe vbd-param-get uuid="$vbd" param-name=mode) &&
        bootable=$(xe vbd-param-get uuid="$vbd" param-name=bootable) &&
        unpluggable=$(xe vbd-param-get uuid="$vbd" param-name=unpluggable); }; then
        echo "FAILED: could not read VBD $vbd of $name"
        echo "could not read VBD $vbd" > "$state/failed/$name"
        failed=1
        continue
      fi
      loc=$(xe vdi-param-get uuid="$vdi" param-name=location 2>/dev/null) || loc=""
      case "$found" in
        *" $name=$loc "*)
          echo "ok: VBD $vbd (VM $vm, device $userdevice) is on $loc, which holds its disk"
          continue
          ;;
      esac
      echo "$name $vm $userdevice $mode $bootable $unpluggable ${"$"}{loc:-none}" > "$state/pending/$vbd" || failed=1
      if xe vbd-destroy uuid="$vbd"; then
        echo "destroyed VBD $vbd (VM $vm, device $userdevice): ${"$"}{loc:-its VDI} no longer holds its disk"
      else
        failed=1
        rm -f "$state/pending/$vbd"
        echo "could not destroy VBD $vbd, which is on another disk or none" > "$state/failed/$name"
        echo "FAILED to destroy VBD $vbd (VM $vm, device $userdevice) on ${"$"}{loc:-a VDI that is gone}"
        if [ -n "$loc" ] && [ -e "$loc" ]; then
          # No VM may attach another disk through it: its VM fails to start instead.
          if rm -f -- "$loc"; then echo "removed $loc, so that no VM attaches another disk through it"
          else echo "FAILED to remove $loc"; fi
          for word in $found; do
            case "$word" in *"=$loc") found=${"$"}{found/" $word "/ } ;; esac
          done
        fi
      fi
    done
  done

  # 3. One scan, if anything is pending: the VDIs follow the new names.
  pending=""
  for entry in "$state"/pending/*; do [ -f "$entry" ] && pending="$pending ${"$"}{entry##*/}"; done
  scanned=0
  if [ -n "$pending" ]; then
    if xe sr-scan uuid="$sr"; then scanned=1; echo "scanned SR $sr"
    else failed=1; echo "FAILED: xe sr-scan uuid=$sr"; fi
  fi

  # 4. Each pending VBD again, on the VDI where its disk is now.
  for vbd in $pending; do
    read -r name vm userdevice mode bootable unpluggable old < "$state/pending/$vbd"
    if [ ! -f "$records/$name" ]; then
      rm -f "$state/pending/$vbd"
      echo "VBD $vbd: $name is no longer passed through, nothing to re-create"
      continue
    fi
${READ_RECORD}
    if [ "$scanned" != 1 ]; then
      echo "the SR scan failed: VBD $vbd of VM $vm not re-created" > "$state/failed/$name"
      echo "FAILED: VBD $vbd of VM $vm (device $userdevice) not re-created: the SR scan failed"
      continue
    fi
    existing=$(xe vbd-list other-config:${VBD_TAG_KEY}="$tag" params=uuid --minimal)
    if [ -n "$existing" ]; then
      rm -f "$state/pending/$vbd"
      echo "VBD $vbd: $name already has VBD $existing again"
      continue
    fi
    loc=""
    count=0
    for word in $found; do
      case "$word" in "$name="*) loc=${"$"}{word#*=}; count=$((count + 1)) ;; esac
    done
    vdi=""
    [ "$count" = 1 ] && vdi=$(xe vdi-list sr-uuid="$sr" location="$loc" params=uuid --minimal)
    case "$count:$vdi" in
      0:*) reason="its disk is not under ${XAPI_BLOCK_DIR}" ;;
      1:) reason="SR $sr has no VDI at $loc" ;;
      1:*,*) reason="SR $sr has several VDIs at $loc" ;;
      1:*) reason="" ;;
      *) reason="several entries of ${XAPI_BLOCK_DIR} hold its disk" ;;
    esac
    if [ -n "$reason" ]; then
      failed=1
      echo "$reason: VBD of VM $vm not re-created" > "$state/failed/$name"
      echo "FAILED: VBD $vbd of VM $vm (device $userdevice) not re-created: $reason"
      continue
    fi
    plug=""
    [ "$unpluggable" != - ] && plug="unpluggable=$unpluggable"
    if ! new=$(xe vbd-create vm-uuid="$vm" vdi-uuid="$vdi" device="$userdevice" mode="$mode" \
      bootable="$bootable" $plug type=Disk); then
      failed=1
      echo "xe vbd-create failed: VBD of VM $vm not re-created" > "$state/failed/$name"
      echo "FAILED: xe vbd-create for VM $vm (device $userdevice) on $loc"
      continue
    fi
    rm -f "$state/pending/$vbd"
    printf -v owned '%b' "$owner"
    if ! xe vbd-param-set uuid="$new" other-config:${VBD_TAG_KEY}="$tag" other-config:${VBD_OWNER_KEY}="$owned"; then
      failed=1
      echo "VBD $new is on its disk but untagged: \`pulumi up\` adopts it" > "$state/failed/$name"
      echo "FAILED to tag VBD $new (VM $vm, device $userdevice, on $loc): \`pulumi up\` adopts it"
      continue
    fi
    echo "re-created VBD $new (VM $vm, device $userdevice) on $loc (VDI $vdi): its disk was at $old"
  done
  echo "finished with exit status $failed"
  exit "$failed"
} 2>&1 | tee -a "$log"
exit "${"$"}{PIPESTATUS[0]}"
`;

const UNIT_BODY = `[Unit]
Description=xen-passthrough: move passed-through disks' VBDs to where the disks are after a reboot
Documentation=https://www.npmjs.com/package/pulumi-xen-passthrough
# xapi has started and plugged the PBDs; VMs have not been auto-started yet.
Wants=xapi-init-complete.target
After=xapi-init-complete.target
Before=xapi-domains.service

[Service]
Type=oneshot
ExecStart=${BOOT_REPAIR_SCRIPT_PATH}
TimeoutStartSec=600

[Install]
WantedBy=multi-user.target
`;

/** The version marker of this provider's script and unit: a hash of both texts. */
export const BOOT_REPAIR_MARKER = createHash("sha256")
  .update(SCRIPT_BODY)
  .update("\0")
  .update(UNIT_BODY)
  .digest("hex")
  .slice(0, 16);

/** The script installed at BOOT_REPAIR_SCRIPT_PATH (bash: dom0's /bin/bash is 4.2). */
export const BOOT_REPAIR_SCRIPT = `#!/bin/bash\n${BOOT_REPAIR_MARKER_PREFIX}${BOOT_REPAIR_MARKER}\n${SCRIPT_BODY}`;

/** The systemd unit installed at BOOT_REPAIR_UNIT. */
export const BOOT_REPAIR_UNIT_TEXT = `${BOOT_REPAIR_MARKER_PREFIX}${BOOT_REPAIR_MARKER}\n${UNIT_BODY}`;
