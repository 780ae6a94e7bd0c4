// Hands in the host's USB ports: plug, pull or move a stick as a person at the host would. XAPI
// notices only when it scans (xen-api calls xapi_pusb.ml scan from PUSB.scan and from its start-up
// scan thread, nowhere else), so by default the records stay as they were until a test calls
// PUSB.scan or reboots the host; `scan: true` runs that scan at once (our shortcut).
import type { UsbScanReport } from "../classes/usb-scan";
import { scanHostUsb } from "../classes/usb-scan";
import type { UsbDevice } from "../classes/usb-policy";
import type { PoolHost, World } from "../world";
import { DriftError } from "./drift";

export interface UsbChangeOptions {
  /** Run XAPI's scan of each host touched right away (default false: XAPI has not noticed yet). */
  scan?: boolean;
}

/** What a change did: the device as it is now (or was) and each scan's report, when one ran. */
export interface UsbChangeReport {
  device: UsbDevice;
  scans: UsbScanReport[];
}

export interface UsbControl {
  /** The devices plugged into a host (by uuid). */
  devices(hostUuid: string): UsbDevice[];
  /** Plugs a device into a free port (`device.path`) of a host. */
  plug(hostUuid: string, device: UsbDevice, options?: UsbChangeOptions): UsbChangeReport;
  /** Pulls the device at port `path` out of a host. */
  unplug(hostUuid: string, path: string, options?: UsbChangeOptions): UsbChangeReport;
  /** Moves the device at port `path` to port `to.path` of the same host or of `to.hostUuid`. */
  move(
    hostUuid: string,
    path: string,
    to: { hostUuid?: string; path: string },
    options?: UsbChangeOptions,
  ): UsbChangeReport;
  /**
   * Says that block device `kernelName` (/sys/block/<name>) of a host sits on USB port `path`, as a
   * USB stick that is also a disk does; `path` "" says it no longer does. The udev SR's next load
   * of it sets (or drops) the VDI's sm_config usb_path (classes/udev-usb.ts). It plugs no PUSB:
   * plug the stick's USB device at the same port for XAPI's USB scan to list it.
   */
  setDiskPort(hostUuid: string, kernelName: string, path: string): void;
  /** The block devices of a host that sit on a USB port: kernel name -> port path. */
  diskPorts(hostUuid: string): Record<string, string>;
}

const PORT_PATH = /^\d+-\d+(\.\d+)*$/;

export function usbControl(world: World): UsbControl {
  const hostByUuid = (uuid: string): PoolHost => {
    const host = world.hosts.find((each) => world.db.str(each.ref, "uuid") === uuid);
    if (host === undefined) throw new DriftError(`no host ${uuid} in the simulated pool`);
    return host;
  };
  const checkFreePort = (host: PoolHost, path: string): void => {
    if (!PORT_PATH.test(path))
      throw new DriftError(`"${path}" is not a USB port path such as 1-2 or 1-1.4 (bus-port[.port...])`);
    if (host.usbDevices.some((device) => device.path === path))
      throw new DriftError(`port ${path} of host ${world.db.str(host.ref, "uuid")} already has a device`);
  };
  const take = (host: PoolHost, path: string): UsbDevice => {
    const index = host.usbDevices.findIndex((device) => device.path === path);
    const device = host.usbDevices[index];
    if (device === undefined)
      throw new DriftError(`no device at port ${path} of host ${world.db.str(host.ref, "uuid")}`);
    host.usbDevices.splice(index, 1);
    return device;
  };
  const scans = (hosts: PoolHost[], options: UsbChangeOptions | undefined): UsbScanReport[] =>
    options?.scan === true
      ? [...new Set(hosts)].map((host) => scanHostUsb(world.db, host.ref, host.usbDevices))
      : [];
  return {
    devices: (hostUuid) => hostByUuid(hostUuid).usbDevices.map((device) => ({ ...device })),
    plug(hostUuid, device, options) {
      const host = hostByUuid(hostUuid);
      checkFreePort(host, device.path);
      host.usbDevices.push({ ...device });
      return { device: { ...device }, scans: scans([host], options) };
    },
    unplug(hostUuid, path, options) {
      const host = hostByUuid(hostUuid);
      const device = take(host, path);
      return { device, scans: scans([host], options) };
    },
    move(hostUuid, path, to, options) {
      const from = hostByUuid(hostUuid);
      const target = to.hostUuid === undefined ? from : hostByUuid(to.hostUuid);
      checkFreePort(target, to.path);
      const device = { ...take(from, path), path: to.path };
      target.usbDevices.push(device);
      return { device: { ...device }, scans: scans([from, target], options) };
    },
    setDiskPort(hostUuid, kernelName, path) {
      const host = hostByUuid(hostUuid);
      if (kernelName === "" || kernelName.includes("/"))
        throw new DriftError(`"${kernelName}" is not a kernel block device name such as sdb or loop3`);
      if (path !== "" && !PORT_PATH.test(path))
        throw new DriftError(`"${path}" is not a USB port path such as 1-2 or 1-1.4 (bus-port[.port...])`);
      host.usbDisks ??= new Map();
      if (path === "") host.usbDisks.delete(kernelName);
      else host.usbDisks.set(kernelName, path);
    },
    diskPorts: (hostUuid) => Object.fromEntries(hostByUuid(hostUuid).usbDisks ?? []),
  };
}
