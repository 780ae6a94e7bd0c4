/**
 * The hand-rolled alternative, as a user would write it without us: one `@pulumi/command`-style
 * remote command per disk, a shell script that drives udev and the `xe` CLI directly. Pure: the
 * scripts only. Values are interpolated as a Pulumi program's template literal would; every
 * value here is a serial, a kernel name or a UUID (no quoting hazards), quoted anyway.
 */

/** What a script needs to know about one disk and where it goes. */
export interface HandRolledDisk {
  readonly serial: string;
  /** /dev/disk/by-id/... of the disk (as the user would name it). */
  readonly byId: string;
  readonly srUuid: string;
  readonly vmUuid: string;
}

/** What `create` prints on its last line and later commands take back: "<kernel> <vdi> <vbd>". */
export interface HandRolledOutputs {
  readonly kernelName: string;
  readonly vdiUuid: string;
  readonly vbdUuid: string;
}

const q = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Parallel \`udevadm control --reload\` calls fail now and then with EAGAIN (udevd's control
 * socket is busy); a user would soon add this retry. Choice: up to 10 s (three pool members'
 * udevds, each with 8 scripts at once on a loaded 2-core machine, kept failing for 2 s).
 */
const RELOAD = `tries=0
until udevadm control --reload 2>/dev/null; do
  tries=$((tries + 1)); [ "$tries" -le 100 ] || { echo "udevadm control --reload kept failing" >&2; exit 4; }
  sleep 0.1
done`;

export function handRolledRulePath(serial: string): string {
  return `/etc/udev/rules.d/65-handrolled-${serial}.rules`;
}

/** Write the rule, reload, trigger, wait for the symlink, scan, find the VDI, create and plug. */
export function createScript(disk: HandRolledDisk, mode: "RW" | "RO" = "RW"): string {
  const rule = `SUBSYSTEM=="block", ENV{ID_SERIAL_SHORT}=="${disk.serial}", SYMLINK+="xapi/block/%k"`;
  return `set -eu
printf '%s\\n' ${q(rule)} > ${q(handRolledRulePath(disk.serial))}
dev=$(basename "$(readlink -f ${q(disk.byId)})")
${RELOAD}
udevadm trigger --action=change --subsystem-match=block --sysname-match="$dev"
link=/dev/xapi/block/$dev
tries=0
while [ ! -b "$link" ]; do
  tries=$((tries + 1)); [ "$tries" -le 150 ] || { echo "udev made no $link" >&2; exit 3; }
  sleep 0.2
done
xe sr-scan uuid=${q(disk.srUuid)}
vdi=$(xe vdi-list sr-uuid=${q(disk.srUuid)} location="$link" --minimal)
vbd=$(xe vbd-create vm-uuid=${q(disk.vmUuid)} vdi-uuid="$vdi" device=autodetect mode=${mode})
xe vbd-plug uuid="$vbd"
echo "$dev $vdi $vbd"
`;
}

/** A drift check a user could script for refresh: the rule, the symlink, the VBD still plugged. */
export function refreshScript(disk: HandRolledDisk, outputs: HandRolledOutputs): string {
  return `set -eu
test -f ${q(handRolledRulePath(disk.serial))}
test -b ${q(`/dev/xapi/block/${outputs.kernelName}`)}
xe vbd-param-get uuid=${q(outputs.vbdUuid)} param-name=currently-attached
`;
}

/** A mode change: the VBD has to be made again (unplug, destroy, create, plug). */
export function updateScript(disk: HandRolledDisk, outputs: HandRolledOutputs, mode: "RW" | "RO"): string {
  return `set -eu
xe vbd-unplug uuid=${q(outputs.vbdUuid)}
xe vbd-destroy uuid=${q(outputs.vbdUuid)}
vbd=$(xe vbd-create vm-uuid=${q(disk.vmUuid)} vdi-uuid=${q(outputs.vdiUuid)} device=autodetect mode=${mode})
xe vbd-plug uuid="$vbd"
echo ${q(outputs.kernelName)} ${q(outputs.vdiUuid)} "$vbd"
`;
}

/** Unplug, destroy, remove the rule, let udev drop the symlink, scan so the SR forgets the VDI. */
export function deleteScript(disk: HandRolledDisk, outputs: HandRolledOutputs): string {
  return `set -eu
xe vbd-unplug uuid=${q(outputs.vbdUuid)}
xe vbd-destroy uuid=${q(outputs.vbdUuid)}
rm -f ${q(handRolledRulePath(disk.serial))}
${RELOAD}
udevadm trigger --action=change --subsystem-match=block --sysname-match=${q(outputs.kernelName)}
xe sr-scan uuid=${q(disk.srUuid)}
`;
}

/** Parses the last line of create/update: "<kernel> <vdi> <vbd>". */
export function parseOutputs(stdout: string): HandRolledOutputs {
  const last = stdout.trim().split("\n").pop() ?? "";
  const [kernelName, vdiUuid, vbdUuid, ...rest] = last.trim().split(/\s+/);
  if (kernelName === undefined || vdiUuid === undefined || vbdUuid === undefined || rest.length > 0) {
    throw new Error(`the hand-rolled script printed "${last}" instead of "<kernel> <vdi> <vbd>"`);
  }
  return { kernelName, vdiUuid, vbdUuid };
}
