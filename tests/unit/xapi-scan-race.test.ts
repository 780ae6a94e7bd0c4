// SR.scan beside VDI.forget, per xapi version: forget takes no SR lock (xen-api message_forwarding.ml),
// so it can land inside a scan. Before v24.40.0 (8.2's xapi 1.249) the scan re-creates the VDI with
// its uuid; from v24.40.0 (CA-399757, 8.3) it scans again, and gives up after 10 retries.
import type { DeviceEntry } from "xen-sandbox";
import { InMemoryDeviceDirectory } from "xen-sandbox";
import { jsonFailure, jsonResult, login, useXapiSimulator } from "./xapi-fixture";

const GiB = 1024 ** 3;
const LOCATION = "/dev/xapi/block/sdb";

/** A simulator with one disk whose scan takes 1.2 s (half in sm, half on the way back to xapi). */
function useHost(smVersion: string) {
  const devices = new InMemoryDeviceDirectory();
  devices.add({ name: "sdb", sizeBytes: 8 * GiB, nameLabel: "SCSI 2:0:0:0" });
  const sim = useXapiSimulator({ smVersion, devices, gcIntervalMs: 0 });
  let session = "";
  let sr = "";
  const call = <T = unknown>(method: string, ...args: unknown[]) =>
    jsonResult<T>({ sim: sim() }, method, [session, ...args]);
  beforeAll(async () => {
    session = await login(sim());
    [sr = ""] = await call<string[]>("SR.get_by_name_label", "Removable storage");
    await call("SR.scan", sr);
    sim().control.profile.set({ name: "slow-scan", methodExtraMs: { "SR.scan": 1200 } });
  });
  const vdiAt = async () => {
    const records =
      await call<Record<string, { location: string; SR: string; uuid: string }>>("VDI.get_all_records");
    const found = Object.entries(records).find(([, vdi]) => vdi.SR === sr && vdi.location === LOCATION);
    return found === undefined ? undefined : { ref: found[0], uuid: found[1].uuid };
  };
  /** Forgets the disk's VDI 0.85 s into a scan: after sm's pass, before xapi reads its database. */
  const forgetInsideScan = async () => {
    const before = await vdiAt();
    const scan = call("SR.scan", sr);
    await new Promise((resolve) => setTimeout(resolve, 850));
    await call("VDI.forget", before?.ref);
    await scan;
    return { before, after: await vdiAt() };
  };
  return { forgetInsideScan };
}

describe("sm 2.30.8 (xapi 1.249, before CA-399757)", () => {
  const host = useHost("2.30.8");
  test("a VDI forgotten while xapi waits for sm's scan comes back with the same uuid, a new ref", async () => {
    const { before, after } = await host.forgetInsideScan();
    expect(after?.uuid).toBe(before?.uuid);
    expect(after?.ref).not.toBe(before?.ref);
  }, 15_000);
});

describe("sm 3.2.3 (xapi 26.4, CA-399757)", () => {
  const host = useHost("3.2.3");
  test("a VDI forgotten during the scan makes xapi scan again: sm introduces it anew (new uuid)", async () => {
    const { before, after } = await host.forgetInsideScan();
    expect(after).toBeDefined();
    expect(after?.uuid).not.toBe(before?.uuid);
    // Three passes: the forget changes the refs, then sm's re-introduce does.
  }, 15_000);
});

/** A directory that shows a different device at every listing: every sm pass changes the VDIs. */
function churningDirectory() {
  let listings = 0;
  return {
    listings: () => listings,
    list: (): Promise<DeviceEntry[]> => {
      listings += 1;
      const name = `sd${String.fromCharCode(97 + (listings % 26))}`;
      return Promise.resolve([
        { name, location: `/dev/xapi/block/${name}`, sizeBytes: GiB, nameLabel: name },
      ]);
    },
  };
}

for (const [smVersion, outcome] of [
  ["3.2.3", "fails after 10 retries"],
  ["2.30.8", "takes one pass"],
] as const) {
  describe(`sm ${smVersion}: a scan whose SR changes at every pass ${outcome}`, () => {
    const directory = churningDirectory();
    const sim = useXapiSimulator({ smVersion, devices: directory, gcIntervalMs: 0 });
    test("as xapi_sr.ml scan has it", async () => {
      const session = await login(sim());
      const [sr] = await jsonResult<string[]>({ sim: sim() }, "SR.get_by_name_label", [
        session,
        "Removable storage",
      ]);
      const start = directory.listings();
      if (smVersion === "3.2.3") {
        expect(await jsonFailure({ sim: sim() }, "SR.scan", [session, sr])).toEqual([
          "INTERNAL_ERROR",
          "SR.scan retry limit exceeded",
        ]);
        expect(directory.listings() - start).toBe(11);
      } else {
        await jsonResult({ sim: sim() }, "SR.scan", [session, sr]);
        expect(directory.listings() - start).toBe(1);
      }
    });
  });
}
