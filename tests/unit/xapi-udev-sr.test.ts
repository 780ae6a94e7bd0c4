// The udev "Removable storage" SR: scan lists the device directory, matches VDIs by location,
// forgets vanished ones (the database GC destroys their VBDs later); introduce/forget/destroy rules.
import { randomUUID } from "node:crypto";
import { startXapiSimulator } from "xen-sandbox";
import type { DeviceEntry } from "xen-sandbox";
import { introduceArgs, jsonFailure, jsonResult, login, useXapiSimulator, vbdRecord } from "./xapi-fixture";

// The GC runs only when a test triggers it, so that tests can stand inside its window.
const sim = useXapiSimulator({ gcIntervalMs: 0 });
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

test("a renamed disk yields a new VDI; the VBD of the forgotten one lives on until the GC", async () => {
  const [media] = await call<string[]>("VM.get_by_name_label", "media-server");
  const oldVdi = (await vdiAt("/dev/xapi/block/sdb")) as string;
  const vbd = await call<string>("VBD.create", vbdRecord(media, oldVdi));
  await call("VBD.plug", vbd);
  expect(await call("VBD.get_currently_attached", vbd)).toBe(true);

  sim().control.devices.remove("sdb");
  sim().control.devices.add({ name: "sdc", sizeBytes: 8 * GiB, nameLabel: "SCSI 2:0:0:0" });
  await call("SR.scan", removable);

  expect(await failure("VDI.get_record", oldVdi)).toEqual(["HANDLE_INVALID", "VDI", oldVdi]);
  // The scan only forgets the VDI (sm SR.py scan, xen-api xapi_vdi.ml forget = Db.VDI.destroy):
  // the VBD keeps its dead ref and currently_attached, still listed in VM.VBDs, and every
  // operation on it fails reading the VDI (xen-api xapi_vbd_helpers.ml valid_operations).
  expect(await call("VBD.get_record", vbd)).toMatchObject({ VDI: oldVdi, currently_attached: true });
  expect(await call("VM.get_VBDs", media)).toContain(vbd);
  expect(await failure("VBD.unplug", vbd)).toEqual(["HANDLE_INVALID", "VDI", oldVdi]);
  await call("VBD.get_all_records");
  // The GC (xen-api db_gc_util.ml gc_VBDs) destroys a Disk VBD whose VDI is gone, attached or not.
  expect(sim().control.gc.run()).toEqual({ destroyedVbds: [vbd], emptiedVbds: [], destroyedVdis: [] });
  expect(await failure("VBD.get_record", vbd)).toEqual(["HANDLE_INVALID", "VBD", vbd]);
  expect(await call("VM.get_VBDs", media)).not.toContain(vbd);
  const newVdi = await vdiAt("/dev/xapi/block/sdc");
  expect(newVdi).toBeDefined();
  expect(newVdi).not.toBe(oldVdi);
});

test("VDI.introduce of a known location fails LOCATION_NOT_UNIQUE; a new one reads the device", async () => {
  const introduce = (uuid: string, location: string) => introduceArgs(uuid, removable, location);
  // A uuid the SM backend refuses reaches the client as INTERNAL_ERROR (xen-api xapi_vdi.ml
  // introduce: Storage_utils.transform_storage_exn around the SM call).
  expect((await failure("VDI.introduce", ...introduce("not-a-uuid", "/dev/xapi/block/sdz")))?.[0]).toBe(
    "INTERNAL_ERROR",
  );
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
  // The same location with the same uuid passes xapi's own check (xapi_vdi.ml introduce, CA-183547)
  // but the SM's VDI.db_introduce (introduce_dbonly) refuses any known location; the storage layer
  // reports every SM failure as INTERNAL_ERROR. Nothing is created.
  const before = await call<string[]>("SR.get_VDIs", removable);
  expect((await failure("VDI.introduce", ...introduce(uuid, "/dev/xapi/block/sdd")))?.[0]).toBe(
    "INTERNAL_ERROR",
  );
  expect(await call("SR.get_VDIs", removable)).toEqual(before);
  expect((await failure("VDI.introduce", ...introduce(uuid, "/dev/xapi/block/sdy")))?.[0]).toBe(
    "INTERNAL_ERROR",
  );

  // The udev backend has no VDI_DELETE (sm udevSR.py CAPABILITIES), checked on the SR first.
  expect(await failure("VDI.destroy", vdi)).toEqual(["SR_OPERATION_NOT_SUPPORTED", removable]);
  await call("VDI.forget", vdi);
  expect(await failure("VDI.get_by_uuid", uuid)).toEqual(["UUID_INVALID", "VDI", uuid]);
});

test("SR.scan with the SR's only PBD unplugged fails SR_HAS_NO_PBDS and changes nothing", async () => {
  sim().control.devices.add({ name: "sdj", sizeBytes: GiB });
  const [pbd = ""] = await call<string[]>("SR.get_PBDs", removable);
  const before = await call<string[]>("SR.get_VDIs", removable);
  // xen-api message_forwarding.ml choose_pbd_for_sr: SR.scan runs only where a PBD is plugged.
  sim().control.drift.setPbdAttached(pbd, false);
  try {
    expect(await failure("SR.scan", removable)).toEqual(["SR_HAS_NO_PBDS", removable]);
    expect(await call("SR.get_VDIs", removable)).toEqual(before);
  } finally {
    sim().control.drift.setPbdAttached(pbd, true);
  }
  await call("SR.scan", removable);
  expect(await vdiAt("/dev/xapi/block/sdj")).toBeDefined();
  sim().control.devices.remove("sdj");
  await call("SR.scan", removable);
});

test("a scan keeps a VDI's name_label as the user set it", async () => {
  sim().control.devices.add({ name: "sdk", sizeBytes: GiB, nameLabel: "SCSI 5:0:0:0" });
  await call("SR.scan", removable);
  const vdi = (await vdiAt("/dev/xapi/block/sdk")) as string;
  expect(await call("VDI.get_name_label", vdi)).toBe("SCSI 5:0:0:0");
  await call("VDI.set_name_label", vdi, "backup disk");
  // sm VDI.py _db_update (run by SR.py ScanRecord for kept VDIs) writes sizes, read_only,
  // sm_config and cbt_enabled, never the name; xapi's update_vdis then reads back the same record.
  await call("SR.scan", removable);
  expect(await call("VDI.get_name_label", vdi)).toBe("backup disk");
  sim().control.devices.remove("sdk");
  await call("SR.scan", removable);
});

test("a scan forgets VDIs whose entry vanished", async () => {
  sim().control.devices.remove("sdc");
  sim().control.devices.remove("sdd");
  await call("SR.scan", removable);
  expect(await call("SR.get_VDIs", removable)).toEqual([]);
  expect(await call("SR.get_physical_size", removable)).toBe(0);
});

test("a scan keeps a dangling entry: an existing VDI stays with size 0, a new one is introduced", async () => {
  // sm udevSR.py update lists every entry; udevVDI.load marks one whose os.stat fails deleted (size
  // 0, label its path, empty sm_config) and SR.py ScanRecord does not filter deleted VDIs.
  sim().control.devices.add({
    name: "sdm",
    sizeBytes: 4 * GiB,
    nameLabel: "SCSI 6:0:0:0",
    kernelName: "sdm",
  });
  await call("SR.scan", removable);
  const kept = (await vdiAt("/dev/xapi/block/sdm")) as string;
  const uuid = await call<string>("VDI.get_uuid", kept);
  sim().control.devices.add({ name: "sdm", sizeBytes: 0, nameLabel: "", kernelName: "" });
  sim().control.devices.add({ name: "xp-dangling", sizeBytes: 0, nameLabel: "", kernelName: "" });
  await call("SR.scan", removable);

  expect(await vdiAt("/dev/xapi/block/sdm")).toBe(kept);
  expect(await call("VDI.get_record", kept)).toMatchObject({
    uuid,
    name_label: "SCSI 6:0:0:0",
    virtual_size: 0,
    physical_utilisation: 0,
  });
  expect(await call("VDI.get_sm_config", kept)).toEqual({});
  const born = (await vdiAt("/dev/xapi/block/xp-dangling")) as string;
  expect(born).toBeDefined();
  expect(await call("VDI.get_record", born)).toMatchObject({
    name_label: "/dev/xapi/block/xp-dangling",
    virtual_size: 0,
    read_only: false,
  });
  expect(await call("VDI.get_sm_config", born)).toEqual({});
  // Only attach fails (udevVDI.attach raises VDIUnavailable for a deleted VDI).
  const [media] = await call<string[]>("VM.get_by_name_label", "media-server");
  const vbd = await call<string>("VBD.create", vbdRecord(media, born));
  expect(await failure("VBD.plug", vbd)).toEqual([
    "SR_BACKEND_FAILURE_46",
    "",
    "The VDI is not available",
    "",
  ]);
  await call("VBD.destroy", vbd);

  // The entries go for good: the next scan forgets both.
  sim().control.devices.remove("sdm");
  sim().control.devices.remove("xp-dangling");
  await call("SR.scan", removable);
  expect(await vdiAt("/dev/xapi/block/sdm")).toBeUndefined();
  expect(await vdiAt("/dev/xapi/block/xp-dangling")).toBeUndefined();
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
  const vbd = await call<string>("VBD.create", vbdRecord(media, vdi));
  await call("VBD.plug", vbd);
  expect(await failure("VDI.forget", vdi)).toEqual(["VDI_IN_USE", vdi, "forget"]);
  // Even attached, a udev VDI's destroy fails on the SR's capabilities first (docs/host.md).
  expect(await failure("VDI.destroy", vdi)).toEqual(["SR_OPERATION_NOT_SUPPORTED", removable]);
  // What local-device-change does on remove: force-unplug, then forget; the GC takes the VBD later.
  await call("VBD.unplug_force", vbd);
  await call("VDI.forget", vdi);
  expect(await call("VBD.get_currently_attached", vbd)).toBe(false);
  expect(await failure("VBD.plug", vbd)).toEqual(["HANDLE_INVALID", "VDI", vdi]);
  expect(sim().control.gc.run().destroyedVbds).toEqual([vbd]);
  expect(await failure("VBD.get_record", vbd)).toEqual(["HANDLE_INVALID", "VBD", vbd]);
  sim().control.devices.remove("sdh");
});

test("VDI.introduce needs the SR's PBD plugged, keeps the caller's other_config and drops its sm_config", async () => {
  sim().control.devices.add({ name: "sdi", sizeBytes: GiB, nameLabel: "SCSI 4:0:0:0" });
  const [pbd] = await call<string[]>("SR.get_PBDs", removable);
  const record = await call<{ SR: string; currently_attached: boolean }>("PBD.get_record", pbd);
  expect(record).toMatchObject({ SR: removable, currently_attached: true });
  const args = introduceArgs(randomUUID(), removable, "/dev/xapi/block/sdi");
  args[7] = { "xp:owner": "test" };
  args[10] = { type: "block", mine: "yes" };

  // xen-api xapi_vdi.ml introduce: Sm.assert_pbd_is_plugged, before anything else.
  sim().control.drift.setPbdAttached(String(pbd), false);
  // The wire code of xen-api's Api_errors.sr_no_pbds is SR_HAS_NO_PBDS (api_errors.ml).
  expect(await failure("VDI.introduce", ...args)).toEqual(["SR_HAS_NO_PBDS", removable]);
  sim().control.drift.setPbdAttached(String(pbd), true);

  const vdi = await call<string>("VDI.introduce", ...args);
  const introduced = await call<{ other_config: unknown; sm_config: Record<string, string> }>(
    "VDI.get_record",
    vdi,
  );
  expect(introduced.other_config).toEqual({ "xp:owner": "test" });
  // The udev backend writes its own sm_config (sm udevSR.py udevVDI): the caller's keys are gone.
  expect(Object.keys(introduced.sm_config)).toEqual(["hotplugged_at"]);
  await call("VDI.forget", vdi);
  sim().control.devices.remove("sdi");
});
