/** The fields of /etc/xensource-inventory the sandbox fills in. */
export interface Inventory {
  installationUuid: string;
  controlDomainUuid: string;
}

/**
 * Pure: /etc/xensource-inventory in the real file's KEY='value' format. local-device-change
 * finds its host through INSTALLATION_UUID; the version fields are those of an XCP-ng 8.3 host.
 */
export function renderInventory(inventory: Inventory): string {
  const entries: [string, string][] = [
    ["PRIMARY_DISK", "/dev/disk/by-id/virtio-dom0-boot"],
    ["PRODUCT_BRAND", "XCP-ng"],
    ["PRODUCT_NAME", "xenenterprise"],
    ["PRODUCT_VERSION", "8.3.0"],
    ["PRODUCT_VERSION_TEXT", "8.3"],
    ["PRODUCT_VERSION_TEXT_SHORT", "8.3"],
    ["PLATFORM_NAME", "XCP"],
    ["PLATFORM_VERSION", "3.4.0"],
    ["BUILD_NUMBER", "cloud"],
    ["XEN_VERSION", "4.17.5"],
    ["LINUX_KABI_VERSION", "4.19.0+1"],
    ["DOM0_MEM", "4096"],
    ["DOM0_VCPUS", "2"],
    ["MANAGEMENT_INTERFACE", "xenbr0"],
    ["MANAGEMENT_ADDRESS_TYPE", "IPv4"],
    ["INSTALLATION_DATE", "2026-01-01 00:00:00.000000"],
    ["INSTALLATION_UUID", inventory.installationUuid],
    ["CONTROL_DOMAIN_UUID", inventory.controlDomainUuid],
    ["DEFAULT_SR_PHYSDEVS", "/dev/vda3"],
  ];
  return entries.map(([key, value]) => `${key}='${value}'`).join("\n") + "\n";
}

/** Pure: reads one KEY='value' entry of an inventory file. */
export function inventoryValue(text: string, key: string): string | undefined {
  for (const line of text.split("\n")) {
    const match = /^([A-Z_]+)='(.*)'$/.exec(line.trim());
    if (match?.[1] === key) return match[2];
  }
  return undefined;
}
