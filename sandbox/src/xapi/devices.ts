/** One entry of the udev SR's location directory, as SR.scan sees it. */
export interface DeviceEntry {
  /** Entry name inside the directory, e.g. "sdb" or a stable name such as "xp-ZS1A2B". */
  name: string;
  /** Full path, which becomes the VDI's location, e.g. "/dev/xapi/block/sdb". */
  location: string;
  /** Size of the device the entry resolves to (realpath). */
  sizeBytes: number;
  /** The VDI's name_label for the device the entry resolves to ("<bus> <bus_path>" on a real host). */
  nameLabel: string;
  /**
   * The kernel name the entry resolves to (realpath's last part): "" when the link dangles.
   * Default: the entry's own name (an entry named after its kernel device).
   */
  kernelName?: string;
}

/** What sysfs says about one kernel block device (/sys/block/<name>). */
export interface BlockDeviceInfo {
  sizeBytes: number;
  nameLabel: string;
}

/** What the udev SR scan sees in its location directory (/dev/xapi/block). */
export interface DeviceDirectory {
  list(): Promise<DeviceEntry[]>;
  /**
   * sysfs facts for kernel name `kernelName`, or undefined when /sys/block has no such device.
   * sm before 3.0.6 looks the entry's own name up here. Absent: looked up among list()'s entries.
   */
  blockDevice?(kernelName: string): Promise<BlockDeviceInfo | undefined>;
}

/** The udev SR's location on a real host. */
export const UDEV_BLOCK_DIRECTORY = "/dev/xapi/block";

/** What the control surface gives to add a device entry. */
export interface NewDeviceEntry {
  name: string;
  sizeBytes: number;
  nameLabel?: string;
  location?: string;
  /** Makes the entry a link to this device ("" = dangling); default the device `name` itself. */
  kernelName?: string;
}

/** A device directory kept in memory, edited through the simulator's control surface. */
export class InMemoryDeviceDirectory implements DeviceDirectory {
  private readonly entries = new Map<string, DeviceEntry>();

  constructor(private readonly directory: string = UDEV_BLOCK_DIRECTORY) {}

  list(): Promise<DeviceEntry[]> {
    return Promise.resolve([...this.entries.values()].map((entry) => ({ ...entry })));
  }

  /** The device an entry resolves to, found by the kernel name it resolves to. */
  blockDevice(kernelName: string): Promise<BlockDeviceInfo | undefined> {
    const entry = [...this.entries.values()].find(
      (candidate) => (candidate.kernelName ?? candidate.name) === kernelName,
    );
    return Promise.resolve(
      entry === undefined ? undefined : { sizeBytes: entry.sizeBytes, nameLabel: entry.nameLabel },
    );
  }

  /**
   * Adds (or replaces) the entry `name`; location defaults to <directory>/<name>. `kernelName`
   * makes it a symlink to that device ("" = a dangling link); default: the device `name` itself.
   */
  add(entry: NewDeviceEntry): DeviceEntry {
    const full: DeviceEntry = {
      name: entry.name,
      location: entry.location ?? `${this.directory}/${entry.name}`,
      sizeBytes: entry.sizeBytes,
      nameLabel: entry.nameLabel ?? `SCSI 0:0:0:${this.entries.size}`,
      ...(entry.kernelName === undefined ? {} : { kernelName: entry.kernelName }),
    };
    this.entries.set(entry.name, full);
    return { ...full };
  }

  remove(name: string): boolean {
    return this.entries.delete(name);
  }

  /** Removes every entry (a reboot's fresh /dev). */
  clear(): void {
    this.entries.clear();
  }
}
