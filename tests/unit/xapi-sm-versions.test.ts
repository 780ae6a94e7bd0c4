// Both storage-manager behaviours of the udev SR (sm drivers/udevSR.py udevVDI.load): since sm
// 3.0.6 an entry of /dev/xapi/block is read through its realpath; before, by its own name.
import {
  InMemoryDeviceDirectory,
  UNRECOGNISED_BUS_LABEL,
  productVersionOf,
  resolvesSymlinks,
  udevVdiView,
} from "xen-sandbox";
import { checkSmVersion } from "xen-sandbox";

import { jsonFailure, jsonResult, login, useXapiSimulator, vbdRecord } from "./xapi-fixture";

const GiB = 1024 ** 3;

describe("sm versions", () => {
  test("symlinks resolve from 3.0.6 on", () => {
    expect(["2.30.8", "3.0.5", "3.0.6", "3.0.10", "3.2.3", "4"].map(resolvesSymlinks)).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
  });

  test("the product version follows the sm major version", () => {
    expect(productVersionOf("3.2.3")).toBe("8.3.0");
    expect(productVersionOf("2.30.8")).toBe("8.2.1");
  });

  test("a version that is not dotted numbers is refused", () => {
    expect(() => checkSmVersion("3.2.3-1.xcpng8.3")).toThrow(/dotted whole numbers/);
    expect(checkSmVersion("2.30.8")).toBe("2.30.8");
  });
});

describe("one entry as each sm reads it", () => {
  const loop3 = { sizeBytes: 8 * GiB, nameLabel: "SCSI 2:0:0:0" };
  const stable = { name: "xp-ZS01", location: "/dev/xapi/block/xp-ZS01", kernelName: "loop3", ...loop3 };

  test("3.x: a stable name reads the device it resolves to", () => {
    expect(udevVdiView(stable, "3.2.3", undefined)).toEqual({
      location: "/dev/xapi/block/xp-ZS01",
      sizeBytes: 8 * GiB,
      nameLabel: "SCSI 2:0:0:0",
      available: true,
    });
  });

  test("2.30.8: a stable name is no kernel device: size 0, unrecognised bus, same location", () => {
    expect(udevVdiView(stable, "2.30.8", undefined)).toEqual({
      location: "/dev/xapi/block/xp-ZS01",
      sizeBytes: 0,
      nameLabel: "Unrecognised bus type ",
      available: true,
    });
  });

  test("2.30.8: a kernel name reads /sys/block/<name>, whatever the link points at", () => {
    const renamed = { name: "loop3", location: "/dev/xapi/block/loop3", kernelName: "loop4", ...loop3 };
    const other = { sizeBytes: 2 * GiB, nameLabel: "SCSI 3:0:0:0" };
    expect(udevVdiView(renamed, "2.30.8", other)).toMatchObject({
      sizeBytes: 2 * GiB,
      nameLabel: "SCSI 3:0:0:0",
    });
    expect(udevVdiView(renamed, "3.2.3", other)).toMatchObject(loop3);
  });

  test("a dangling link is unavailable in both (os.stat fails)", () => {
    for (const version of ["2.30.8", "3.2.3"]) {
      expect(udevVdiView({ ...stable, kernelName: "" }, version, undefined)).toMatchObject({
        available: false,
      });
    }
  });
});

/** A simulator per sm version, each with a kernel-named entry, a stable-named link and a dangling link. */
function useHostWith(smVersion: string) {
  const devices = new InMemoryDeviceDirectory();
  devices.add({ name: "loop3", sizeBytes: 8 * GiB, nameLabel: "SCSI 2:0:0:0" });
  devices.add({ name: "xp-ZS01", sizeBytes: 8 * GiB, nameLabel: "SCSI 2:0:0:0", kernelName: "loop3" });
  devices.add({ name: "xp-gone", sizeBytes: 0, nameLabel: "", kernelName: "" });
  return useXapiSimulator({ smVersion, devices, gcIntervalMs: 0 });
}

for (const [smVersion, product, stableSize, stableLabel] of [
  ["3.2.3", "8.3.0", 8 * GiB, "SCSI 2:0:0:0"],
  ["2.30.8", "8.2.1", 0, UNRECOGNISED_BUS_LABEL],
] as const) {
  describe(`a host with sm ${smVersion}`, () => {
    const sim = useHostWith(smVersion);
    let session = "";
    const call = <T = unknown>(method: string, ...args: unknown[]) =>
      jsonResult<T>({ sim: sim() }, method, [session, ...args]);

    beforeAll(async () => {
      session = await login(sim());
    });

    test(`reports product_version ${product}`, async () => {
      const [host] = await call<string[]>("host.get_all");
      expect(await call("host.get_software_version", host)).toMatchObject({ product_version: product });
    });

    test("its scan keeps each entry's own path as location; sizes and labels as its sm reads them", async () => {
      const [sr] = await call<string[]>("SR.get_by_name_label", "Removable storage");
      await call("SR.scan", sr);
      const vdis = Object.values(await call<Record<string, Record<string, unknown>>>("VDI.get_all_records"))
        .filter((vdi) => vdi["SR"] === sr)
        .map((vdi) => ({ location: vdi["location"], size: vdi["virtual_size"], label: vdi["name_label"] }))
        .sort((a, b) => String(a.location).localeCompare(String(b.location)));
      expect(vdis).toEqual([
        { location: "/dev/xapi/block/loop3", size: 8 * GiB, label: "SCSI 2:0:0:0" },
        // udevVDI.load marks a dangling entry deleted (size 0, label its path); the scan keeps it.
        { location: "/dev/xapi/block/xp-gone", size: 0, label: "/dev/xapi/block/xp-gone" },
        { location: "/dev/xapi/block/xp-ZS01", size: stableSize, label: stableLabel },
      ]);
    });

    test("a VM with the stable-named VDI starts (attach takes the path either way)", async () => {
      const [sr] = await call<string[]>("SR.get_by_name_label", "Removable storage");
      const [vdi] = Object.entries(await call<Record<string, Record<string, unknown>>>("VDI.get_all_records"))
        .filter(([, record]) => record["SR"] === sr && record["location"] === "/dev/xapi/block/xp-ZS01")
        .map(([ref]) => ref);
      const [archive] = await call<string[]>("VM.get_by_name_label", "archive");
      const vbd = await call<string>("VBD.create", vbdRecord(archive, vdi));
      await call("VM.start", archive, false, false);
      expect(await call("VBD.get_currently_attached", vbd)).toBe(true);
      await call("VM.hard_shutdown", archive);
      await call("VBD.destroy", vbd);
    });

    test("a VDI whose link dangles after a scan kept it fails to attach: SR_BACKEND_FAILURE_46", async () => {
      const [sr] = await call<string[]>("SR.get_by_name_label", "Removable storage");
      const [archive] = await call<string[]>("VM.get_by_name_label", "archive");
      // Introduced while the link was good; then the device goes and no scan runs.
      sim().control.devices.add({
        name: "xp-later",
        sizeBytes: GiB,
        nameLabel: "SCSI 4:0:0:0",
        kernelName: "loop9",
      });
      const vdi = await call<string>(
        "VDI.introduce",
        "7b7c1d3e-3f4a-4e55-9c1a-000000000001",
        "",
        "",
        sr,
        "user",
        false,
        false,
        {},
        "/dev/xapi/block/xp-later",
        {},
        {},
      );
      sim().control.devices.add({ name: "xp-later", sizeBytes: 0, nameLabel: "", kernelName: "" });
      const vbd = await call<string>("VBD.create", vbdRecord(archive, vdi));
      expect(await jsonFailure({ sim: sim() }, "VM.start", [session, archive, false, false])).toEqual([
        "SR_BACKEND_FAILURE_46",
        "",
        "The VDI is not available",
        "",
      ]);
      expect(await call("VM.get_power_state", archive)).toBe("Halted");
      await call("VBD.destroy", vbd);
    });
  });
}
