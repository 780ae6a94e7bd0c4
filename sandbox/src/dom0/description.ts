import type { DiskBus } from "./identities";

/** One loop disk of the sandbox, as the CLI's JSON line and startSandbox describe it. */
export interface SandboxDisk {
  /** The bus udev sees it on (SandboxOptions.diskBuses): "sata", "sas" or "nvme-centos7". */
  bus: DiskBus;
  /**
   * The serial on the drive's label, e.g. "ZS1A2B3C00": ID_SERIAL_SHORT on SATA, ID_SCSI_SERIAL on
   * SAS (where ID_SERIAL_SHORT is the NAA id, `wwn` without "0x"), in no udev property on
   * "nvme-centos7". The sandbox's handle for the disk (unplugDisk, replugDisk, rebootDisk).
   */
  serial: string;
  /** ID_WWN, e.g. "0x5000c5001a2b3c00"; "" on "nvme-centos7". */
  wwn: string;
  /** /dev/disk/by-id/ata-<model>_<serial> (SATA) or scsi-3<NAA id> (SAS), inside dom0; "" on "nvme-centos7". */
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
