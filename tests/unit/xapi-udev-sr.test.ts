// The udev "Removable storage" SR: scan lists the device directory, matches VDIs by location,
// forgets vanished ones (and the GC destroys their VBDs); introduce/forget/destroy rules.
import { randomUUID } from "node:crypto";
import { startXapiSimulator } from "xen-sandbox";
import type { DeviceEntry } from "xen-sandbox";
import { introduceArgs, jsonFailure, jsonResult, login, useXapiSimulator, vbdRecord } from "./xapi-fixture";

const sim = useXapiSimulator();
const GiB = 1024 ** 3;
let session = "";
let removable = "";

const call = <T = unknown>(method: string, ...args: unknown[]) =>
  jsonResult<T>({ sim: sim() }, method, [session, ...args]);
const failure = (method: string, ...args: unknown[]) =>
  jsonFailure({ sim: sim() }, method, [session, ...args]);

async function vdiAt(location: string): Promise<string | undefined> {
  const records = await call<Record<string, { location: string; SR: string }>>("VDI.get_all_records");
  return Object.entries(records).find(([, vdi]) => vdi.SR === removable && vdi.location === location)?.[0];
}

beforeAll(async () => {
  session = await login(sim());
  [removable = ""] = await call<string[]>("SR.get_by_name_label", "Removable storage");
});

test("the removable SR is a udev SR of block devices with a PBD located at /dev/xapi/block", async () => {
  const sr = await call<Record<string, unknown>>("SR.get_record", removable);
  expect(sr).toMatchObject({ type: "udev", content_type: "disk", sm_config: { type: "block" } });
  const [pbd] = sr["PBDs"] as string[];
  expect(await call("PBD.get_device_config", pbd)).toEqual({ location: "/dev/xapi/block" });
  expect(await call("PBD.get_host", pbd)).toBe(
    await call<string[]>("host.get_all").then((hosts) => hosts[0]),
  );
});

test("SR.scan makes one VDI per entry and keeps its UUID while the location stays", async () => {
  sim().control.devices.add({ name: "sdb", sizeBytes: 8 * GiB, nameLabel: "SCSI 2:0:0:0" });
  await call("SR.scan", removable);
  const vdi = await vdiAt("/dev/xapi/block/sdb");
  expect(vdi).toBeDefined();
  const record = await call<Record<string, unknown>>("VDI.get_record", vdi);
  expect(record).toMatchObject({
    name_label: "SCSI 2:0:0:0",
    virtual_size: 8 * GiB,
    physical_utilisation: 8 * GiB,
    type: "user",
    managed: true,
    SR: removable,
  });
  expect(await call("SR.get_VDIs", removable)).toContain(vdi);

  await call("SR.scan", removable);
  expect(await vdiAt("/dev/xapi/block/sdb")).toBe(vdi);
  expect(await call("VDI.get_uuid", vdi)).toBe(record["uuid"]);
});

test("a renamed disk yields a new VDI, and the GC destroys the attached VBD of the forgotten one", async () => {
  const [media] = await call<string[]>("VM.get_by_name_label", "media-server");
  const oldVdi = (await vdiAt("/dev/xapi/block/sdb")) as string;
  const vbd = await call<string>("VBD.create", vbdRecord(media as string, oldVdi));
  await call("VBD.plug", vbd);
  expect(await call("VBD.get_currently_attached", vbd)).toBe(true);

  sim().control.devices.remove("sdb");
  sim().control.devices.add({ name: "sdc", sizeBytes: 8 * GiB, nameLabel: "SCSI 2:0:0:0" });
  await call("SR.scan", removable);

  expect(await failure("VDI.get_record", oldVdi)).toEqual(["HANDLE_INVALID", "VDI", oldVdi]);
  expect(await failure("VBD.get_record", vbd)).toEqual(["HANDLE_INVALID", "VBD", vbd]);
  expect(await call("VM.get_VBDs", media)).not.toContain(vbd);
  const newVdi = await vdiAt("/dev/xapi/block/sdc");
  expect(newVdi).toBeDefined();
  expect(newVdi).not.toBe(oldVdi);
});

test("VDI.introduce of a known location fails LOCATION_NOT_UNIQUE; a new one reads the device", async () => {
  const introduce = (uuid: string, location: string) => introduceArgs(uuid, removable, location);
  expect(await failure("VDI.introduce", ...introduce("not-a-uuid", "/dev/xapi/block/sdz"))).toEqual([
    "UUID_INVALID",
    "VDI",
    "not-a-uuid",
  ]);
  expect(await failure("VDI.introduce", ...introduce(randomUUID(), "/dev/xapi/block/sdc"))).toEqual([
    "LOCATION_NOT_UNIQUE",
    removable,
    "/dev/xapi/block/sdc",
  ]);

  sim().control.devices.add({ name: "sdd", sizeBytes: 2 * GiB, nameLabel: "SCSI 3:0:0:0" });
  const uuid = "3b0c5f38-5fd6-4d1e-9d7b-0a5f3f5c9e11";
  const vdi = await call<string>("VDI.introduce", ...introduce(uuid, "/dev/xapi/block/sdd"));
  expect(await call("VDI.get_record", vdi)).toMatchObject({
    uuid,
    location: "/dev/xapi/block/sdd",
    virtual_size: 2 * GiB,
    name_label: "SCSI 3:0:0:0",
    SR: removable,
  });
  expect(await call("VDI.get_by_uuid", uuid)).toBe(vdi);

  expect(await failure("VDI.destroy", vdi)).toEqual(["VDI_IS_A_PHYSICAL_DEVICE", vdi]);
  await call("VDI.forget", vdi);
  expect(await failure("VDI.get_by_uuid", uuid)).toEqual(["UUID_INVALID", "VDI", uuid]);
});

test("a scan forgets VDIs whose entry vanished", async () => {
  sim().control.devices.remove("sdc");
  sim().control.devices.remove("sdd");
  await call("SR.scan", removable);
  expect(await call("SR.get_VDIs", removable)).toEqual([]);
  expect(await call("SR.get_physical_size", removable)).toBe(0);
});

test("a given DeviceDirectory is what the scan lists (and it is not editable through control)", async () => {
  const entries: DeviceEntry[] = [
    { name: "loop3", location: "/dev/xapi/block/loop3", sizeBytes: GiB, nameLabel: "loop3" },
  ];
  const own = await startXapiSimulator({ devices: { list: () => Promise.resolve(entries) } });
  try {
    const state = own.control.state();
    const vdis = state.vdis.filter((vdi) => vdi.location === "/dev/xapi/block/loop3");
    // Present at start: the simulator scans once at boot, as XAPI does.
    expect(vdis).toHaveLength(1);
    expect(() => own.control.devices.add({ name: "sdz", sizeBytes: 1 })).toThrow(/real device directory/);
  } finally {
    await own.stop();
  }
});

test("forgetting or destroying a VDI with an attached VBD fails VDI_IN_USE", async () => {
  sim().control.devices.add({ name: "sdh", sizeBytes: GiB });
  await call("SR.scan", removable);
  const vdi = (await vdiAt("/dev/xapi/block/sdh")) as string;
  const [media] = await call<string[]>("VM.get_by_name_label", "media-server");
  const vbd = await call<string>("VBD.create", vbdRecord(media as string, vdi));
  await call("VBD.plug", vbd);
  expect(await failure("VDI.forget", vdi)).toEqual(["VDI_IN_USE", vdi, "forget"]);
  expect(await failure("VDI.destroy", vdi)).toEqual(["VDI_IN_USE", vdi, "destroy"]);
  // What local-device-change does on remove: force-unplug, then forget; the GC takes the VBD.
  await call("VBD.unplug_force", vbd);
  await call("VDI.forget", vdi);
  expect(await failure("VBD.get_record", vbd)).toEqual(["HANDLE_INVALID", "VBD", vbd]);
  sim().control.devices.remove("sdh");
});
