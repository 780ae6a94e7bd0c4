import type { UsbDevice } from "./classes/usb-policy";
import type { Database } from "./database";
import type { DeviceDirectory } from "./devices";
import type { MethodTable } from "./dispatch/method";

/** One host of the pool as handlers see it: its objects and what its udev SR scan lists. */
export interface PoolHost {
  ref: string;
  controlDomain: string;
  /** This host's udev "Removable storage" SR (its PBD is on this host only). */
  removableSr: string;
  devices: DeviceDirectory;
  /** The USB devices plugged into the host right now (what dom0's usb_scan.py would see). */
  usbDevices: UsbDevice[];
  /**
   * Block devices of this host that sit on a USB port: kernel name -> port path (a USB stick that
   * is also a disk). Absent or empty: none (the sandbox's loop disks). Set through control.usb.
   */
  usbDisks?: Map<string, string>;
  /** The version of the host's storage manager (the `sm` package): see sm-version.ts. */
  smVersion: string;
}

/** The simulated pool as handlers see it: the database plus the well-known objects and settings. */
export interface World {
  db: Database;
  methods: MethodTable;
  pool: string;
  /** The pool master (a standalone host is its own pool's master). */
  host: string;
  controlDomain: string;
  /** Reference of the master's udev "Removable storage" SR. */
  removableSr: string;
  devices: DeviceDirectory;
  /** Every host of the pool, master first. */
  hosts: PoolHost[];
  credentials: { username: string; password: string };
  /** Set on a pool member: logins are refused with HOST_IS_SLAVE [masterAddress]. */
  masterAddress: string | undefined;
  /** Hosts whose XAPI is not running (rebooting): calls to them get no answer. */
  down: Set<string>;
  /**
   * Members whose XAPI started while the master was down: they run in emergency mode (see the
   * dispatcher) until the master is back.
   */
  emergency: Set<string>;
}

/** The pool host `ref` (the master when `ref` names no host of the pool). */
export function poolHost(world: World, ref: string): PoolHost {
  return world.hosts.find((host) => host.ref === ref) ?? (world.hosts[0] as PoolHost);
}
