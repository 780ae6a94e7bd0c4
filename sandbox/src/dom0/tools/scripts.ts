/**
 * Pure: the dom0 programs the sandbox installs under /opt/xensource, written for the sandbox
 * (they behave as docs/host.md describes XenServer's own, they are not copies of them).
 */

/** /opt/xensource/bin/xe: runs the Node xe stand-in with this machine's Node. */
export function renderXeWrapper(nodePath: string, xeMainPath: string): string {
  return `#!/bin/sh\n# xen-sandbox stand-in for the xe CLI (talks to XAPI on /var/lib/xcp/xapi).\nexec "${nodePath}" "${xeMainPath}" "$@"\n`;
}

/**
 * /opt/xensource/libexec/local-device-change: udev runs it with ACTION in the environment and
 * the kernel name as $1. add: introduce a VDI (fresh random UUID) for /dev/xapi/block/$1 into
 * this host's udev SR. remove: force-unplug the VBDs of this host's VDIs at that location,
 * forget those VDIs, rescan. Loop devices only ever send "change" (their nodes pre-exist), so "change" counts as
 * "add" when no VDI has the location yet.
 */
export const LOCAL_DEVICE_CHANGE = `#!/bin/sh
# xen-sandbox stand-in for XenServer's local-device-change.
set -u
PATH=/opt/xensource/bin:/usr/sbin:/usr/bin:/sbin:/bin
device="\${1:?usage: ACTION=add|remove local-device-change <kernel name>}"
location="/dev/xapi/block/$device"
host=$(sed -n "s/^INSTALLATION_UUID='\\(.*\\)'$/\\1/p" /etc/xensource-inventory)

say() { echo "local-device-change: $*" >&2; }

# This host's "Removable storage" SR: type udev, sm-config:type=block, with a PBD on this host.
udev_sr() {
  for sr in $(xe sr-list type=udev sm-config:type=block --minimal | tr ',' ' '); do
    if [ -n "$(xe pbd-list sr-uuid="$sr" host-uuid="$host" --minimal)" ]; then
      echo "$sr"
      return 0
    fi
  done
  return 1
}

case "\${ACTION:-}" in
add | change)
  [ -e "$location" ] || exit 0
  sr=$(udev_sr) || { say "host $host has no udev SR with sm-config:type=block"; exit 0; }
  [ -z "$(xe vdi-list sr-uuid="$sr" location="$location" --minimal)" ] || exit 0
  xe vdi-introduce uuid="$(cat /proc/sys/kernel/random/uuid)" sr-uuid="$sr" type=user location="$location" >/dev/null
  ;;
remove)
  # Only this host's SR: in a pool the same location may be another host's disk (sm's
  # local-device-change forgets a VDI only when its SR is one of this host's).
  sr=$(udev_sr) || exit 0
  for vdi in $(xe vdi-list sr-uuid="$sr" location="$location" --minimal | tr ',' ' '); do
    for vbd in $(xe vbd-list vdi-uuid="$vdi" currently-attached=true --minimal | tr ',' ' '); do
      xe vbd-unplug uuid="$vbd" force=true || say "could not unplug VBD $vbd of $location"
    done
    xe vdi-forget uuid="$vdi" || say "could not forget VDI $vdi of $location"
  done
  xe sr-scan uuid="$sr"
  ;;
*)
  say "ACTION must be add, change or remove (got '\${ACTION:-}')"
  exit 1
  ;;
esac
`;

/**
 * /opt/xensource/libexec/check-device-sharing <kernel name>: succeeds when dom0 does not use
 * the device (no mounted filesystem or swap on it or its partitions, no holders such as
 * device-mapper); fails, saying why, when it does. udev rules use it to skip dom0's own disks.
 */
export const CHECK_DEVICE_SHARING = `#!/bin/sh
# xen-sandbox stand-in for XenServer's check-device-sharing.
set -u
device="\${1:?usage: check-device-sharing <kernel name>}"
for node in /dev/$device /dev/$device[0-9]* /dev/\${device}p[0-9]*; do
  [ -b "$node" ] || continue
  if grep -q "^$node " /proc/mounts; then echo "$node is mounted in dom0"; exit 1; fi
  if grep -q "^$node " /proc/swaps; then echo "$node is swap in dom0"; exit 1; fi
done
if [ -n "$(ls -A /sys/block/$device/holders 2>/dev/null)" ]; then echo "$device has holders in dom0"; exit 1; fi
exit 0
`;

/**
 * /opt/xensource/bin/rpm (placed there, first on dom0's PATH, because /usr is the machine's
 * own): answers `rpm -q [--qf FORMAT] NAME...` for the one package it knows, `sm` at `smVersion`
 * (release "1.xcpng<product>", arch x86_64: our choice); any other package gets rpm 4.11's
 * "package NAME is not installed" on stdout, exit 1. The format's %{NAME} %{VERSION} %{RELEASE}
 * %{ARCH} tags and backslash escapes are expanded; other tags print "(none)" as rpm does.
 */
export function renderRpm(smVersion: string, productVersion: string): string {
  const release = `1.xcpng${productVersion.split(".").slice(0, 2).join(".")}`;
  return `#!/bin/sh
# xen-sandbox stand-in for rpm: knows one installed package, sm ${smVersion}.
set -u
format='%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n'
query=no
names=""
while [ $# -gt 0 ]; do
  case "$1" in
  -q | --query) query=yes ;;
  --qf | --queryformat) shift; format="\${1:-}" ;;
  --qf=* | --queryformat=*) format="\${1#*=}" ;;
  -*) echo "rpm: option $1 is not simulated in xen-sandbox" >&2; exit 1 ;;
  *) names="$names $1" ;;
  esac
  shift
done
if [ "$query" != yes ] || [ -z "$names" ]; then
  echo "rpm: only 'rpm -q [--qf FORMAT] NAME...' is simulated in xen-sandbox" >&2
  exit 1
fi
status=0
for name in $names; do
  if [ "$name" = sm ]; then
    expanded=$(printf '%s' "$format" | sed -e 's/%{NAME}/sm/g' -e 's/%{VERSION}/${smVersion}/g' \\
      -e 's/%{RELEASE}/${release}/g' -e 's/%{ARCH}/x86_64/g' -e 's/%{[A-Za-z]*}/(none)/g')
    printf '%b' "$expanded"
  else
    echo "package $name is not installed"
    status=1
  fi
done
exit $status
`;
}
