/** One loop disk of the sandbox, as the CLI's JSON line and startSandbox describe it. */
export interface SandboxDisk {
  /** ID_SERIAL_SHORT, e.g. "ZS1A2B3C00". */
  serial: string;
  /** ID_WWN, e.g. "0x5000c5001a2b3c00". */
  wwn: string;
  /** /dev/disk/by-id/ata-<model>_<serial> (inside dom0). */
  byId: string;
  /** The current kernel name ("loop3"); changes when the disk is "rebooted"; "" while unplugged. */
  kernelName: string;
  sizeBytes: number;
  /** The disk dom0 has formatted and mounted (a passthrough must refuse it). */
  inUse: boolean;
}

/** Everything a client needs to use the sandbox: the CLI prints this as one JSON line. */
export interface SandboxDescription {
  xapi: { url: string; username: string; password: string; tlsFingerprint: string };
  ssh: {
    host: string;
    port: number;
    user: string;
    privateKeyPath: string;
    /** The host key as an OpenSSH public-key line, "ssh-ed25519 AAAA...". */
    hostKey: string;
    /** root's password, only when started with passwordLogin. */
    password?: string;
  };
  host: { uuid: string; nameLabel: string };
  disks: SandboxDisk[];
  vms: { uuid: string; nameLabel: string; powerState: string }[];
  controlUrl: string;
}
