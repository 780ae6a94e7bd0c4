/**
 * The layouts the benchmark measures (issues 5 and 10). Choices: "16 disks over 4 VMs" is 4 disks
 * on each of 4 VMs; "2 hosts x 8 disks" is 4 disks on each of 2 VMs per host, on two standalone
 * hosts; "3-host pool, 8 disks each" is the same per host, on the 3 hosts of one pool (one XAPI
 * database), each resource reaching its own host over SSH. All VMs are Running.
 */
import type { Shape } from "./floor";

export interface Layout extends Shape {
  readonly name: string;
}

export const LAYOUTS: readonly Layout[] = [
  { name: "1 disk", hosts: [{ disksPerVm: [1] }] },
  { name: "4 disks on 1 VM", hosts: [{ disksPerVm: [4] }] },
  { name: "16 disks over 4 VMs", hosts: [{ disksPerVm: [4, 4, 4, 4] }] },
  { name: "2 hosts x 8 disks", hosts: [{ disksPerVm: [4, 4] }, { disksPerVm: [4, 4] }] },
  {
    name: "3-host pool, 8 disks each",
    pool: true,
    hosts: [{ disksPerVm: [4, 4] }, { disksPerVm: [4, 4] }, { disksPerVm: [4, 4] }],
  },
];

/**
 * The guests of one host, named so that layouts can address them: bench-vm-1, bench-vm-2, ... on
 * a standalone host; in a pool, where one database holds every host's guests and a VM is found by
 * its name, bench-vm-<host>-1, bench-vm-<host>-2, ...
 */
export function vmName(index: number, poolHost?: number): string {
  return poolHost === undefined ? `bench-vm-${index + 1}` : `bench-vm-${poolHost + 1}-${index + 1}`;
}

/** What each host of all layouts together needs: the most VMs and disks any layout asks of it. */
export function hostNeeds(layouts: readonly Layout[]): { vms: number; disks: number }[] {
  const needs: { vms: number; disks: number }[] = [];
  for (const layout of layouts) {
    layout.hosts.forEach((host, index) => {
      const disks = host.disksPerVm.reduce((sum, n) => sum + n, 0);
      const current = needs[index] ?? { vms: 0, disks: 0 };
      needs[index] = {
        vms: Math.max(current.vms, host.disksPerVm.length),
        disks: Math.max(current.disks, disks),
      };
    });
  }
  return needs;
}

/** Each disk of a layout as (host index, VM index), VMs filled in order. */
export function placements(layout: Layout): { host: number; vm: number }[] {
  return layout.hosts.flatMap((host, hostIndex) =>
    host.disksPerVm.flatMap((count, vmIndex) =>
      Array.from({ length: count }, () => ({ host: hostIndex, vm: vmIndex })),
    ),
  );
}
