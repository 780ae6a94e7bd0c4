/**
 * The layouts the benchmark measures (issue 5). Choices: "16 disks over 4 VMs" is 4 disks on each
 * of 4 VMs; "2 hosts x 8 disks" is 4 disks on each of 2 VMs per host. All VMs are Running.
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
];

/** The guests of one host, named so that layouts can address them: bench-vm-1, bench-vm-2, ... */
export function vmName(index: number): string {
  return `bench-vm-${index + 1}`;
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
