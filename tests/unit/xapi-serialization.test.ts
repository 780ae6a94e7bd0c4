// What serializes: SR operations per SR, plugs per VM (different VMs in parallel), and the
// named mutex itself. Blocking is made observable with a device directory the test controls.
import { randomUUID } from "node:crypto";
import { startXapiSimulator, zeroProfile } from "xen-sandbox";
import type { DeviceEntry, XapiSimulator } from "xen-sandbox";
import { KeyedMutex } from "xen-sandbox/dist/xapi/dispatch/locks";
import { introduceArgs, jsonResult, login } from "./xapi-fixture";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

test("KeyedMutex: one holder per key, other keys run meanwhile", async () => {
  const mutex = new KeyedMutex();
  const order: string[] = [];
  const gate = deferred();
  const first = mutex.run(["VM:a"], async () => {
    order.push("a1 start");
    await gate.promise;
    order.push("a1 end");
  });
  const second = mutex.run(["VM:a"], () => Promise.resolve(order.push("a2")));
  await mutex.run(["VM:b"], () => Promise.resolve(order.push("b")));
  expect(order).toEqual(["a1 start", "b"]);
  gate.resolve();
  await Promise.all([first, second]);
  expect(order).toEqual(["a1 start", "b", "a1 end", "a2"]);
});

describe("with a device directory that blocks while the test holds it", () => {
  let sim: XapiSimulator;
  let gate = deferred();
  let blocking = false;
  const entries: DeviceEntry[] = [
    { name: "sdb", location: "/dev/xapi/block/sdb", sizeBytes: 1024, nameLabel: "SCSI 1:0:0:0" },
    { name: "sdr", location: "/dev/xapi/block/sdr", sizeBytes: 1024, nameLabel: "SCSI 2:0:0:0" },
    { name: "sds", location: "/dev/xapi/block/sds", sizeBytes: 1024, nameLabel: "SCSI 3:0:0:0" },
  ];
  beforeAll(async () => {
    sim = await startXapiSimulator({
      devices: {
        list: async () => {
          if (blocking) await gate.promise;
          return entries;
        },
      },
      profile: { ...zeroProfile, name: "plug-test", methodExtraMs: { "VBD.plug": 150 } },
      // PV guests: a read-only disk shared by two VMs (HVM guests refuse RO disks).
      model: {
        vms: [
          { nameLabel: "media-server", powerState: "Running", guest: "pv" },
          { nameLabel: "archive", powerState: "Halted", guest: "pv" },
        ],
      },
    });
  });
  afterAll(async () => {
    await sim.stop();
  });

  test("calls on one SR wait for the running scan; other SRs do not", async () => {
    const session = await login(sim);
    const call = <T = unknown>(method: string, ...args: unknown[]) =>
      jsonResult<T>({ sim }, method, [session, ...args]);
    const [removable] = await call<string[]>("SR.get_by_name_label", "Removable storage");
    const [dvd] = await call<string[]>("SR.get_by_name_label", "DVD drives");
    const done: string[] = [];
    gate = deferred();
    blocking = true;
    const scan = call("SR.scan", removable).then(() => done.push("scan"));
    const introduce = call(
      "VDI.introduce",
      ...introduceArgs(randomUUID(), removable, "/dev/xapi/block/sdq"),
    ).then(() => done.push("introduce"));
    await call("SR.scan", dvd);
    done.push("dvd scan");
    expect(done).toEqual(["dvd scan"]);
    blocking = false;
    gate.resolve();
    await Promise.all([scan, introduce]);
    expect(done).toEqual(["dvd scan", "scan", "introduce"]);
  });

  test("plugs on one VM queue behind each other while another VM's plug runs", async () => {
    const session = await login(sim);
    const call = <T = unknown>(method: string, ...args: unknown[]) =>
      jsonResult<T>({ sim }, method, [session, ...args]);
    const [media] = await call<string[]>("VM.get_by_name_label", "media-server");
    const [archive] = await call<string[]>("VM.get_by_name_label", "archive");
    await call("VM.start", archive, false, false);
    const [removable] = await call<string[]>("SR.get_by_name_label", "Removable storage");
    await call("SR.scan", removable);
    const records = await call<Record<string, { location: string }>>("VDI.get_all_records");
    const vdiAt = (location: string) =>
      Object.entries(records).find(([, vdi]) => vdi.location === location)?.[0];
    const vdis = [vdiAt("/dev/xapi/block/sdr"), vdiAt("/dev/xapi/block/sds")];
    const record = (vm: unknown, vdi: unknown) => ({
      VM: vm,
      VDI: vdi,
      userdevice: "autodetect",
      bootable: false,
      mode: "RO",
      type: "Disk",
      empty: false,
      other_config: {},
      qos_algorithm_type: "",
      qos_algorithm_params: {},
    });
    const mediaA = await call<string>("VBD.create", record(media, vdis[0]));
    const mediaB = await call<string>("VBD.create", record(media, vdis[1]));
    const archiveA = await call<string>("VBD.create", record(archive, vdis[0]));
    sim.control.trace.reset();
    await Promise.all([call("VBD.plug", mediaA), call("VBD.plug", mediaB), call("VBD.plug", archiveA)]);
    // Decided from the simulator's trace, not from which reply came first (load reorders those):
    // a plug's 150 ms run under its VM's lock, so the second plug into one VM gets the lock at
    // least 150 ms after the first (2 ms for millisecond rounding), and the other VM's plug does
    // not wait for that lock at all.
    const plug = (vbd: string) => {
      const entry = sim.control.trace.get().calls.find((c) => c.method === "VBD.plug" && c.ref === vbd);
      if (entry === undefined) throw new Error(`no traced VBD.plug of ${vbd}`);
      return { locked: entry.startedAt + (entry.lockWaitMs ?? 0), lockWaitMs: entry.lockWaitMs ?? 0 };
    };
    const [first, second] = [plug(mediaA), plug(mediaB)].sort((a, b) => a.locked - b.locked);
    expect((second?.locked ?? 0) - (first?.locked ?? 0)).toBeGreaterThanOrEqual(148);
    expect(plug(archiveA).lockWaitMs).toBeLessThan(150);
  });
});
