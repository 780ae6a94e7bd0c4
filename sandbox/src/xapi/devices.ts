/** One entry of the udev SR's location directory, as SR.scan sees it. */
export interface DeviceEntry {
  /** Entry name inside the directory, e.g. "sdb". */
  name: string;
  /** Full path, which becomes the VDI's location, e.g. "/dev/xapi/block/sdb". */
  location: string;
  sizeBytes: number;
  /** The VDI's name_label ("<bus> <bus_path>" on a real host). */
  nameLabel: string;
}

/** What the udev SR scan sees in its location directory (/dev/xapi/block). */
export interface DeviceDirectory {
  list(): Promise<DeviceEntry[]>;
}

/** The udev SR's location on a real host. */
export const UDEV_BLOCK_DIRECTORY = "/dev/xapi/block";

/** A device directory kept in memory, edited through the simulator's control surface. */
export class InMemoryDeviceDirectory implements DeviceDirectory {
  private readonly entries = new Map<string, DeviceEntry>();

  constructor(private readonly directory: string = UDEV_BLOCK_DIRECTORY) {}

  list(): Promise<DeviceEntry[]> {
    return Promise.resolve([...this.entries.values()].map((entry) => ({ ...entry })));
  }

  /** Adds (or replaces) the entry `name`; location defaults to <directory>/<name>. */
  add(entry: { name: string; sizeBytes: number; nameLabel?: string; location?: string }): DeviceEntry {
    const full: DeviceEntry = {
      name: entry.name,
      location: entry.location ?? `${this.directory}/${entry.name}`,
      sizeBytes: entry.sizeBytes,
      nameLabel: entry.nameLabel ?? `SCSI 0:0:0:${this.entries.size}`,
    };
    this.entries.set(entry.name, full);
    return { ...full };
  }

  remove(name: string): boolean {
    return this.entries.delete(name);
  }
}
