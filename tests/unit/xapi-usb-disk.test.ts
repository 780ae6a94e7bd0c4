// A USB stick that is also a disk, in the XAPI simulator: sm's udev scan records its port as the
// VDI's sm_config usb_path and fails while that port is passed through; enabling passthrough
// forgets the VDI or fails PUSB_VDI_CONFLICT while a VBD uses it (docs/usb-passthrough.md).
import { InMemoryDeviceDirectory } from "xen-sandbox";
import type { XapiSimulator } from "xen-sandbox";
import {
  controlRequest,
  introduceArgs,
  jsonFailure,
  jsonResult,
  login,
  useXapiSimulator,
  vbdRecord,
} from "./xapi-fixture";
import { FLASH } from "../support/usb-devices";

const NOT_AVAILABLE = ["SR_BACKEND_FAILURE_46", "", "The VDI is not available", ""];

function useHost(smVersion?: string) {
  const devices = new InMemoryDeviceDirectory();
  const sim = useXapiSimulator({ devices, ...(smVersion === undefined ? {} : { smVersion }) });
  let session = "";
  const call = async <T = unknown>(method: string, ...args: unknown[]): Promise<T> => {
    if (session === "") session = await login(sim());
    return jsonResult<T>({ sim: sim() }, method, [session, ...args]);
  };
  const failure = async (method: string, ...args: unknown[]) => {
    if (session === "") session = await login(sim());
    return jsonFailure({ sim: sim() }, method, [session, ...args]);
  };
  const removable = async () => (await call<string[]>("SR.get_by_name_label", "Removable storage"))[0];
  const vdiAt = async (location: string) => {
    const vdis =
      await call<Record<string, { location: string; sm_config: Record<string, string> }>>(
        "VDI.get_all_records",
      );
    const found = Object.entries(vdis).find(([, record]) => record.location === location);
    return found === undefined ? undefined : { ref: found[0], smConfig: found[1].sm_config };
  };
  const pusbAt = async (path: string) => {
    const all =
      await call<Record<string, { path: string; passthrough_enabled: boolean }>>("PUSB.get_all_records");
    const found = Object.entries(all).find(([, record]) => record.path === path);
    if (found === undefined) throw new Error(`no PUSB at ${path}`);
    return { ref: found[0], enabled: found[1].passthrough_enabled };
  };
  const hostUuid = () => sim().host.uuid;
  return { sim, devices, call, failure, removable, vdiAt, pusbAt, hostUuid };
}

describe("sm 3.2.3 (XCP-ng 8.3)", () => {
  const host = useHost();
  const { devices, call, failure, removable, vdiAt, pusbAt } = host;
  const usb = () => host.sim().control.usb;

  beforeAll(() => {
    // The stick: its USB device at port 1-5 and its disk, sdc, on that same port.
    usb().plug(host.hostUuid(), FLASH, { scan: true });
    devices.add({ name: "sdb", sizeBytes: 4096, nameLabel: "SCSI 2:0:0:0" });
    devices.add({ name: "sdc", sizeBytes: 8192, nameLabel: "USB 6:0:0:0" });
  });

  test("a disk on no USB port gets no usb_path; one on a port gets that port", async () => {
    await call("SR.scan", await removable());
    expect((await vdiAt("/dev/xapi/block/sdc"))?.smConfig["usb_path"]).toBeUndefined();
    usb().setDiskPort(host.hostUuid(), "sdc", "1-5");
    expect(usb().diskPorts(host.hostUuid())).toEqual({ sdc: "1-5" });
    await call("SR.scan", await removable());
    expect((await vdiAt("/dev/xapi/block/sdc"))?.smConfig).toMatchObject({ usb_path: "1-5" });
    expect((await vdiAt("/dev/xapi/block/sdc"))?.smConfig["hotplugged_at"]).toMatch(/Z$/);
    expect((await vdiAt("/dev/xapi/block/sdb"))?.smConfig["usb_path"]).toBeUndefined();
  });

  test("enabling passthrough while a VBD uses the disk: PUSB_VDI_CONFLICT [pusb, vdi], nothing changed", async () => {
    const [archive] = await call<string[]>("VM.get_by_name_label", "archive");
    const disk = await vdiAt("/dev/xapi/block/sdc");
    const vbd = await call<string>("VBD.create", vbdRecord(archive, disk?.ref));
    const stick = await pusbAt("1-5");
    expect(await failure("PUSB.set_passthrough_enabled", stick.ref, true)).toEqual([
      "PUSB_VDI_CONFLICT",
      stick.ref,
      disk?.ref,
    ]);
    expect((await pusbAt("1-5")).enabled).toBe(false);
    expect((await vdiAt("/dev/xapi/block/sdc"))?.ref).toBe(disk?.ref);
    await call("VBD.destroy", vbd);
  });

  test("enabled without a VBD: the VDI is forgotten, and every scan fails until it is disabled", async () => {
    const stick = await pusbAt("1-5");
    await call("PUSB.set_passthrough_enabled", stick.ref, true);
    expect(await vdiAt("/dev/xapi/block/sdc")).toBeUndefined();

    // The whole scan fails before any change: a new entry is not introduced either.
    devices.add({ name: "sdd", sizeBytes: 2048, nameLabel: "SCSI 3:0:0:0" });
    expect(await failure("SR.scan", await removable())).toEqual(NOT_AVAILABLE);
    expect(await vdiAt("/dev/xapi/block/sdc")).toBeUndefined();
    expect(await vdiAt("/dev/xapi/block/sdd")).toBeUndefined();
    // VDI.introduce loads the device too: refused, as every SM failure there, with INTERNAL_ERROR.
    const refused = await failure(
      "VDI.introduce",
      ...introduceArgs("3f1c2a8e-5b7d-4c1e-9a0b-2d4e6f8a1c3e", await removable(), "/dev/xapi/block/sdc"),
    );
    expect(refused?.[0]).toBe("INTERNAL_ERROR");
    expect(await vdiAt("/dev/xapi/block/sdc")).toBeUndefined();

    await call("PUSB.set_passthrough_enabled", stick.ref, false);
    await call("SR.scan", await removable());
    expect((await vdiAt("/dev/xapi/block/sdc"))?.smConfig["usb_path"]).toBe("1-5");
    expect(await vdiAt("/dev/xapi/block/sdd")).toBeDefined();
  });

  test("a disk taken off the port loses usb_path at the next scan; bad control input is refused", async () => {
    usb().setDiskPort(host.hostUuid(), "sdc", "");
    await call("SR.scan", await removable());
    expect((await vdiAt("/dev/xapi/block/sdc"))?.smConfig["usb_path"]).toBeUndefined();
    expect(() => usb().setDiskPort(host.hostUuid(), "sdc", "usb1")).toThrow(/not a USB port path/);
    expect(() => usb().setDiskPort(host.hostUuid(), "../sdc", "1-5")).toThrow(/not a kernel block device/);
  });

  test("the HTTP control endpoint sets and lists a disk's port", async () => {
    const sim: XapiSimulator = host.sim();
    const path = `/usb/${host.hostUuid()}/disks`;
    expect((await controlRequest(sim, "POST", path, { kernelName: "sdb", path: "1-1.4" })).body).toEqual({
      sdb: "1-1.4",
    });
    expect((await controlRequest(sim, "GET", path)).body).toEqual({ sdb: "1-1.4" });
    expect((await controlRequest(sim, "POST", path, { kernelName: "sdb", path: "" })).body).toEqual({});
    expect((await controlRequest(sim, "POST", path, { kernelName: "sdb" })).status).toBe(400);
  });
});

describe("sm 2.30.8 (XCP-ng 8.2) stats the entry's own name", () => {
  const host = useHost("2.30.8");
  const { devices, call, removable, vdiAt } = host;

  test("an entry named after its kernel device gets usb_path; a stable-name link to it does not", async () => {
    devices.add({ name: "sdc", sizeBytes: 8192, nameLabel: "USB 6:0:0:0" });
    devices.add({ name: "xp-serial-4C53", sizeBytes: 8192, nameLabel: "USB 6:0:0:0", kernelName: "sdc" });
    host.sim().control.usb.setDiskPort(host.hostUuid(), "sdc", "1-5");
    await call("SR.scan", await removable());
    expect((await vdiAt("/dev/xapi/block/sdc"))?.smConfig["usb_path"]).toBe("1-5");
    expect((await vdiAt("/dev/xapi/block/xp-serial-4C53"))?.smConfig["usb_path"]).toBeUndefined();
  });
});
