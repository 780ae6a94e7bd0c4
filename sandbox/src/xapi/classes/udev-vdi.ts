import type { BlockDeviceInfo, DeviceDirectory, DeviceEntry } from "../devices";
import { resolvesSymlinks } from "../sm-version";
import type { World } from "../world";

/** What the udev SM backend makes of one directory entry (sm `drivers/udevSR.py`, `udevVDI.load`). */
export interface UdevVdiView {
  /** Always the entry's own path, resolved or not (the scan matches VDIs by it). */
  location: string;
  sizeBytes: number;
  nameLabel: string;
  /** False when `os.stat` of the entry fails (a dangling link): the VDI is "deleted", attach fails. */
  available: boolean;
  /**
   * sysdevice.stat's `usb_path`: the USB port (PUSB `path` form, e.g. "1-2") of the device sm
   * looked up, when that device sits on a USB port. Becomes the VDI's sm_config usb_path.
   */
  usbPath?: string;
}

/**
 * Which kernel block devices of a host sit on a USB port, by kernel name (/sys/block/<name>):
 * what sm's sysdevice.stat derives from the device's sysfs path (the last USB device node before
 * the interface, e.g. ".../usb1/1-2/1-2:1.0/..." gives "1-2"; sm `sysdevice.py` get_usb_node).
 */
export type UsbDiskPorts = ReadonlyMap<string, string>;

/**
 * sysdevice.stat's label for a device whose bus it cannot tell, or that /sys/block lacks:
 * "%s %s" % (bus, bus_path) with bus "Unrecognised bus type" and bus_path "" (sm `sysdevice.py`),
 * hence the trailing space.
 */
export const UNRECOGNISED_BUS_LABEL = "Unrecognised bus type ";

/**
 * Pure: one entry as sm's udevVDI.load sees it. Both versions stat the entry (following the link)
 * and keep its own path as the location. sm 3.0.6 and later (PR #603) then take realpath, so the
 * size and label are the resolved device's; older sm reads /sys/block/<entry name>: a name that
 * is no kernel device gives size 0 and the unrecognised-bus label. `byEntryName` is that lookup.
 */
export function udevVdiView(
  entry: DeviceEntry,
  smVersion: string,
  byEntryName: BlockDeviceInfo | undefined,
): UdevVdiView {
  const available = entry.kernelName !== "";
  if (!available) return { location: entry.location, sizeBytes: 0, nameLabel: entry.location, available };
  if (resolvesSymlinks(smVersion))
    return { location: entry.location, sizeBytes: entry.sizeBytes, nameLabel: entry.nameLabel, available };
  return {
    location: entry.location,
    sizeBytes: byEntryName?.sizeBytes ?? 0,
    nameLabel: byEntryName?.nameLabel ?? UNRECOGNISED_BUS_LABEL,
    available,
  };
}

/**
 * Pure: the view with sysdevice.stat's usb_path added. sm 3.0.6+ stats the resolved device; older
 * sm stats the entry's own name, which only a device named after its kernel name finds in
 * /sys/block (`foundByEntryName`). sm udevSR.py udevVDI.load, the same in 2.30.8 and 3.2.3.
 */
export function withUsbPath(
  view: UdevVdiView,
  entry: DeviceEntry,
  smVersion: string,
  foundByEntryName: boolean,
  ports: UsbDiskPorts,
): UdevVdiView {
  if (!view.available || ports.size === 0) return view;
  const device = resolvesSymlinks(smVersion) ? (entry.kernelName ?? entry.name) : entry.name;
  if (!resolvesSymlinks(smVersion) && !foundByEntryName) return view;
  const usbPath = ports.get(device);
  return usbPath === undefined ? view : { ...view, usbPath };
}

async function lookUp(devices: DeviceDirectory, entries: readonly DeviceEntry[], name: string) {
  if (devices.blockDevice !== undefined) return devices.blockDevice(name);
  const entry = entries.find((candidate) => (candidate.kernelName ?? candidate.name) === name);
  return entry === undefined ? undefined : { sizeBytes: entry.sizeBytes, nameLabel: entry.nameLabel };
}

/**
 * What the udev backend of a host running sm `smVersion` reads from its directory now; `usbPorts`
 * says which of its block devices sit on a USB port (default none).
 */
export async function readUdevDirectory(
  devices: DeviceDirectory,
  smVersion: string,
  usbPorts: UsbDiskPorts = new Map(),
): Promise<UdevVdiView[]> {
  const entries = await devices.list();
  const resolves = resolvesSymlinks(smVersion);
  return Promise.all(
    entries.map(async (entry) => {
      const byEntryName = resolves ? undefined : await lookUp(devices, entries, entry.name);
      const view = udevVdiView(entry, smVersion, byEntryName);
      return withUsbPath(view, entry, smVersion, byEntryName !== undefined, usbPorts);
    }),
  );
}

/** The udev backend's view of an SR's directory: its host's devices, read as its sm would. */
export async function udevSrView(world: World, sr: string): Promise<UdevVdiView[] | undefined> {
  const host = world.hosts.find((candidate) => candidate.removableSr === sr);
  return host === undefined ? undefined : readUdevDirectory(host.devices, host.smVersion, host.usbDisks);
}
