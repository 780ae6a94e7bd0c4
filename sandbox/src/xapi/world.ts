import type { Database } from "./database";
import type { DeviceDirectory } from "./devices";
import type { MethodTable } from "./dispatch/method";

/** The simulated host as handlers see it: the database plus the well-known objects and settings. */
export interface World {
  db: Database;
  methods: MethodTable;
  pool: string;
  host: string;
  controlDomain: string;
  /** Reference of the udev "Removable storage" SR (the one SR.scan lists the device directory for). */
  removableSr: string;
  devices: DeviceDirectory;
  credentials: { username: string; password: string };
  /** Set on a pool member: logins are refused with HOST_IS_SLAVE [masterAddress]. */
  masterAddress: string | undefined;
}
