// The declarative inventory of the stack config: hosts -> VMs -> disks. Its shape is checked
// here, with errors that name the place ("hosts[0].vms[1].disks[2]"); the values themselves
// (serials, names, keys) are checked by PassthroughDisk before anything is touched.
import type { PassthroughDiskArgs } from "pulumi-xen-passthrough";

export interface DiskSpec {
  readonly disk: { readonly serial: string } | { readonly wwn: string } | { readonly byId: string };
  readonly mode?: "RW" | "RO";
  readonly attach?: boolean;
}

export interface VmSpec {
  readonly vm: { readonly nameLabel: string } | { readonly uuid: string };
  readonly disks: readonly DiskSpec[];
}

export interface HostSpec {
  /** Short name used in resource names; never changes once deployed. */
  readonly name: string;
  readonly address: string;
  readonly hostKey: string;
  readonly port?: number;
  readonly vms: readonly VmSpec[];
}

/** One passthrough to declare: a stable resource name and the arguments (connection aside). */
export interface PlannedDisk {
  /** "<host>-<disk>": the VM is not part of it, so moving the disk to another VM is one replace. */
  readonly name: string;
  /**
   * The names this program gave the disk before (with the VM: "<host>-<vm>-<disk>", for every VM
   * of the host), so existing stacks keep their resources instead of replacing them.
   */
  readonly formerNames: readonly string[];
  readonly host: HostSpec;
  readonly args: Omit<PassthroughDiskArgs, "connection">;
}

/** Letters, digits and "_ . -": safe and stable in resource names. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

type Fields = Record<string, unknown>;

function fail(where: string, problem: string): never {
  throw new Error(`hosts config: ${where} ${problem}`);
}

function object(value: unknown, where: string): Fields {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(where, "must be an object");
  return value as Fields;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0) fail(where, "must be a non-empty list");
  return value;
}

function text(fields: Fields, key: string, where: string): string {
  const value = fields[key];
  if (typeof value !== "string" || value === "") fail(`${where}.${key}`, "must be a non-empty string");
  return value;
}

/** Exactly one of the keys, as an object holding that key only. */
function oneOf(fields: Fields, keys: readonly string[], where: string): Record<string, string> {
  const present = keys.filter((key) => fields[key] !== undefined);
  if (present.length !== 1) fail(where, `must set exactly one of ${keys.join(", ")}`);
  const key = present[0] as string;
  return { [key]: text(fields, key, where) };
}

function parseDisk(value: unknown, where: string): DiskSpec {
  const fields = object(value, where);
  const mode = fields["mode"];
  if (mode !== undefined && mode !== "RW" && mode !== "RO") fail(`${where}.mode`, 'must be "RW" or "RO"');
  const attach = fields["attach"];
  if (attach !== undefined && typeof attach !== "boolean") fail(`${where}.attach`, "must be true or false");
  return {
    disk: oneOf(fields, ["serial", "wwn", "byId"], where) as DiskSpec["disk"],
    ...(mode === undefined ? {} : { mode }),
    ...(attach === undefined ? {} : { attach }),
  };
}

function parseVm(value: unknown, where: string): VmSpec {
  const fields = object(value, where);
  return {
    vm: oneOf(fields, ["nameLabel", "uuid"], where) as VmSpec["vm"],
    disks: list(fields["disks"], `${where}.disks`).map((d, i) => parseDisk(d, `${where}.disks[${i}]`)),
  };
}

function parseHost(value: unknown, where: string): HostSpec {
  const fields = object(value, where);
  const name = text(fields, "name", where);
  if (!NAME.test(name)) fail(`${where}.name`, 'must be letters, digits and "_ . -" (at most 63)');
  const port = fields["port"];
  if (port !== undefined && (typeof port !== "number" || !Number.isInteger(port)))
    fail(`${where}.port`, "must be a whole number");
  return {
    name,
    address: text(fields, "address", where),
    hostKey: text(fields, "hostKey", where),
    ...(port === undefined ? {} : { port }),
    vms: list(fields["vms"], `${where}.vms`).map((vm, i) => parseVm(vm, `${where}.vms[${i}]`)),
  };
}

/** Every passthrough of the inventory, each with a resource name unique in the stack. */
export function planDisks(hostsConfig: unknown): PlannedDisk[] {
  const hosts = list(hostsConfig, "hosts").map((host, i) => parseHost(host, `hosts[${i}]`));
  hosts.forEach((host, i) => {
    if (hosts.findIndex((other) => other.name === host.name) !== i)
      fail(`hosts[${i}].name`, `repeats the host name ${JSON.stringify(host.name)}: names must be unique`);
  });
  const planned = hosts.flatMap((host) =>
    host.vms.flatMap(({ vm, disks }) =>
      disks.map(({ disk, ...options }) => ({
        // host/disk identity: stable when the lists are reordered and when the disk changes VM.
        name: [host.name, ...Object.values(disk)].join("-"),
        formerNames: host.vms.map((other) =>
          [host.name, ...Object.values(other.vm), ...Object.values(disk)].join("-"),
        ),
        host,
        args: { vm, disk, ...options },
      })),
    ),
  );
  // A disk can be passed through to one VM only.
  const seen = new Set<string>();
  for (const { host, args } of planned) {
    const disk = `${host.name}: disk ${JSON.stringify(args.disk)}`;
    if (seen.has(disk)) fail(disk, "is declared more than once: a disk can be passed through to one VM only");
    seen.add(disk);
  }
  return planned;
}
