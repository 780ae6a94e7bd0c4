// Host tier: the inventory reads udev's database directly (/run/udev/data) and falls back to
// `udevadm info --export-db` where that directory is missing. Both must describe the disks alike.
import { parseInventory, type Dom0Inventory } from "#provider/core/dom0-inventory.js";
import { INVENTORY_SCRIPT } from "#provider/dom0/inventory.js";

import { NAMING_PROPERTIES } from "#provider/core/rule.js";

import { useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 2 });

async function inventory(script: string): Promise<Dom0Inventory> {
  const encoded = Buffer.from(script, "utf8").toString("base64");
  const result = await sandbox().exec(`echo ${encoded} | base64 -d | bash`);
  if (result.exitCode !== 0)
    throw new Error(`the inventory script exited ${result.exitCode}: ${result.stderr}`);
  return parseInventory(result.stdout);
}

/** What the provider uses of this sandbox's disks (other tests' loop disks come and go meanwhile). */
function identities(found: Dom0Inventory) {
  const ours = new Set(sandbox().disks.map((disk) => disk.kernelName));
  return found.disks
    .filter((disk) => ours.has(disk.kernelName))
    .map((disk) => ({
      kernelName: disk.kernelName,
      properties: Object.fromEntries(NAMING_PROPERTIES.map((key) => [key, disk.properties[key]])),
      links: [...disk.links].sort(),
    }));
}

test("udev's database read directly gives what udevadm --export-db gives", async () => {
  expect(INVENTORY_SCRIPT).toContain("udevdata=/run/udev/data\n");
  const direct = await inventory(INVENTORY_SCRIPT);
  const viaUdevadm = await inventory(
    INVENTORY_SCRIPT.replace("udevdata=/run/udev/data\n", "udevdata=/nonexistent\n"),
  );

  expect(identities(direct)).toHaveLength(sandbox().disks.length);
  expect(identities(direct)).toEqual(identities(viaUdevadm));
  for (const disk of sandbox().disks) {
    const found = direct.disks.find((candidate) => candidate.kernelName === disk.kernelName);
    expect(found?.properties["ID_SERIAL_SHORT"]).toBe(disk.serial);
    expect(found?.properties["DEVNAME"]).toBe(`/dev/${disk.kernelName}`);
    expect(found?.links).toContain(disk.byId);
  }
});
