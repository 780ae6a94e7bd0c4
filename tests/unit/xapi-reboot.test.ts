// A host reboot as XAPI lives it (the simulator's side; the dom0 side is faked by hooks that
// record what they see): VMs halt, XAPI stops answering, XAPI starts with an initial GC pass and
// plugged PBDs and the udev SR's boot scan, boot units run before any VM starts, then auto_poweron
// VMs start.
import { InMemoryDeviceDirectory } from "xen-sandbox";
import type { BootUnitRun, RebootOptions, RebootReport, SimulatorState } from "xen-sandbox";

import {
  eventually,
  jsonFailure,
  jsonResult,
  login,
  rawPost,
  useXapiSimulator,
  vbdRecord,
  controlRequest,
} from "./xapi-fixture";

const GiB = 1024 ** 3;
const devices = new InMemoryDeviceDirectory();
devices.add({ name: "loop3", sizeBytes: 8 * GiB, nameLabel: "SCSI 2:0:0:0" });
devices.add({ name: "loop4", sizeBytes: 4 * GiB, nameLabel: "SCSI 3:0:0:0" });
const sim = useXapiSimulator({ devices, gcIntervalMs: 0 });
let session = "";
const call = <T = unknown>(method: string, ...args: unknown[]) =>
  jsonResult<T>({ sim: sim() }, method, [session, ...args]);

const control = (method: string, path: string, body?: unknown) => controlRequest(sim(), method, path, body);

/** Whether XAPI answers a login on the host's HTTPS listener (false: the connection drops). */
async function xapiAnswers(): Promise<boolean> {
  return rawPost(
    { sim: sim() },
    "/jsonrpc",
    "application/json",
    JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "session.login_with_password",
      params: ["root", sim().password, "1.0", "t"],
    }),
  ).then(
    () => true,
    () => false,
  );
}

const hostUuid = () => sim().host.uuid;
const vmRef = (state: SimulatorState, name: string) =>
  state.vms.find((vm) => vm.nameLabel === name)?.ref ?? "";
const running = (state: SimulatorState) =>
  state.vms.filter((vm) => !vm.isControlDomain && vm.powerState === "Running").map((vm) => vm.nameLabel);

interface Seen {
  down?: { answers: boolean; running: string[] };
  initComplete?: {
    answers: boolean;
    running: string[];
    pbdsAttached: boolean[];
    vbds: number;
    /** Every VDI's location. */
    vdis: string[];
    /** VBDs whose VDI ref is dead (not empty). */
    deadVdiVbds: string[];
  };
}

/** VBDs whose VDI ref no longer names a VDI. */
async function deadVdiVbds(): Promise<string[]> {
  const vdis = await call<Record<string, unknown>>("VDI.get_all_records");
  const vbds = await call<Record<string, { VDI: string; empty: boolean }>>("VBD.get_all_records");
  return Object.entries(vbds)
    .filter(([, vbd]) => !vbd.empty && !(vbd.VDI in vdis))
    .map(([ref]) => ref);
}

const vdiRefOf = (vbd: string) => call<string>("VBD.get_VDI", vbd);

/** Fake dom0 hooks: record what XAPI looks like at each step. */
function recordingHooks(seen: Seen, units: BootUnitRun[] = []) {
  const pbds = async () =>
    Object.values(await call<Record<string, { currently_attached: boolean }>>("PBD.get_all_records")).map(
      (pbd) => pbd.currently_attached,
    );
  return {
    check: (options: RebootOptions) =>
      Object.keys(options.kernelNames ?? {}).includes("bad")
        ? Promise.reject(new RangeError("bad serial"))
        : Promise.resolve(),
    async whileXapiDown() {
      const state = sim().control.state();
      seen.down = { answers: await xapiAnswers(), running: running(state) };
      return { ZS01: "loop3" };
    },
    async afterInitComplete() {
      // The master's restart ended every session: a boot unit's xe logs in afresh, so do we.
      session = await login(sim());
      const state = sim().control.state();
      seen.initComplete = {
        answers: await xapiAnswers(),
        running: running(state),
        pbdsAttached: await pbds(),
        vbds: state.vbds.length,
        vdis: Object.values(await call<Record<string, { location: string }>>("VDI.get_all_records")).map(
          (vdi) => vdi.location,
        ),
        deadVdiVbds: await deadVdiVbds(),
      };
      return units;
    },
  };
}

beforeAll(async () => {
  session = await login(sim());
  const [pool] = await call<string[]>("pool.get_all");
  await call("pool.add_to_other_config", pool, "auto_poweron", "true");
  for (const name of ["media-server", "archive"]) {
    const [vm] = await call<string[]>("VM.get_by_name_label", name);
    await call("VM.add_to_other_config", vm, "auto_poweron", "true");
  }
});

afterEach(() => sim().control.faults.clear());

test("each step in a real host's order, with the udev SR scanned at boot", async () => {
  const [sr] = await call<string[]>("SR.get_by_name_label", "Removable storage");
  const vdiAt = async (location: string) =>
    Object.entries(await call<Record<string, { location: string }>>("VDI.get_all_records")).find(
      ([, vdi]) => vdi.location === location,
    )?.[0];
  // archive holds loop3's VDI; media-server (running) holds loop4's, which is then forgotten:
  // its VBD stays, with a dead VDI ref, until a GC pass.
  const [archive] = await call<string[]>("VM.get_by_name_label", "archive");
  const [media] = await call<string[]>("VM.get_by_name_label", "media-server");
  const archiveVbd = await call<string>(
    "VBD.create",
    vbdRecord(archive, await vdiAt("/dev/xapi/block/loop3")),
  );
  const mediaVbd = await call<string>("VBD.create", vbdRecord(media, await vdiAt("/dev/xapi/block/loop4")));
  await call("VDI.forget", await vdiAt("/dev/xapi/block/loop4"));
  // The disk behind loop3 comes back as loop5: the boot scan forgets loop3's VDI, introduces loop5's.
  devices.remove("loop3");
  devices.add({ name: "loop5", sizeBytes: 8 * GiB, nameLabel: "SCSI 2:0:0:0" });

  const seen: Seen = {};
  sim().attachDom0(hostUuid(), recordingHooks(seen, [{ unit: "x.service", exitCode: 0, output: "ok\n" }]));
  const report: RebootReport = await sim().control.hosts.reboot(hostUuid());

  expect(seen.down).toEqual({ answers: false, running: [] });
  expect(seen.initComplete).toMatchObject({ answers: true, running: [], pbdsAttached: [true, true, true] });
  // The initial GC pass ran before init completed: the forgotten VDI's VBD was gone by then.
  expect(report.initialGc?.destroyedVbds).toEqual([mediaVbd]);
  expect(report.haltedVms).toEqual([await call("VM.get_uuid", media)]);
  expect(report.bootUnits).toEqual([{ unit: "x.service", exitCode: 0, output: "ok\n" }]);
  expect(report.kernelNames).toEqual({ ZS01: "loop3" });
  expect(seen.initComplete?.vdis).toEqual(expect.arrayContaining(["/dev/xapi/block/loop5"]));
  expect(seen.initComplete?.vdis).not.toContain("/dev/xapi/block/loop3");
  // archive's VBD is still there at init complete, its VDI ref dead: only the next GC pass (30 s
  // on a real host, none here) destroys it.
  expect(seen.initComplete?.deadVdiVbds).toEqual([archiveVbd]);
  // xapi-autostart-vms: media-server starts; archive's VBD names a VDI that no longer exists.
  expect(report.autoStart).toEqual([
    { vm: await call("VM.get_uuid", media), started: true },
    {
      vm: await call("VM.get_uuid", archive),
      started: false,
      error: `HANDLE_INVALID [VDI, ${await vdiRefOf(archiveVbd)}]`,
    },
  ]);
  expect(running(sim().control.state())).toEqual(["media-server"]);

  // Leave the host as the other tests expect it.
  await call("VBD.destroy", archiveVbd);
  devices.remove("loop5");
  devices.add({ name: "loop3", sizeBytes: 8 * GiB, nameLabel: "SCSI 2:0:0:0" });
  devices.add({ name: "loop4", sizeBytes: 4 * GiB, nameLabel: "SCSI 3:0:0:0" });
  await call("SR.scan", sr);
});

test("VM.start at auto-start goes through the dispatcher: a fault rule's error is reported", async () => {
  sim().control.faults.add({
    method: "VM.start",
    nameLabel: "archive",
    action: { error: { code: "HOST_NOT_ENOUGH_FREE_MEMORY", params: ["1", "0"] } },
  });
  const report = await sim().control.hosts.reboot(hostUuid());
  const state = sim().control.state();
  const archive = state.vms.find((vm) => vm.ref === vmRef(state, "archive"));
  expect(report.autoStart.find((result) => result.vm === archive?.uuid)).toEqual({
    vm: archive?.uuid,
    started: false,
    error: "HOST_NOT_ENOUGH_FREE_MEMORY [1, 0]",
  });
});

test("without the pool's auto_poweron nothing starts", async () => {
  const [pool] = await call<string[]>("pool.get_all");
  await call("pool.remove_from_other_config", pool, "auto_poweron");
  try {
    const report = await sim().control.hosts.reboot(hostUuid());
    expect(report.autoStart).toEqual([]);
    expect(running(sim().control.state())).toEqual([]);
  } finally {
    await call("pool.add_to_other_config", pool, "auto_poweron", "true");
  }
});

test("bad options are refused before anything changes", async () => {
  await sim().control.hosts.reboot(hostUuid());
  const before = running(sim().control.state());
  expect(before).toContain("media-server");
  await expect(sim().control.hosts.reboot(hostUuid(), { kernelNames: { bad: "loop1" } })).rejects.toThrow(
    "bad serial",
  );
  expect(running(sim().control.state())).toEqual(before);
  await expect(sim().control.hosts.reboot("no-such-host")).rejects.toThrow(/no host no-such-host/);
});

test("a reboot at a time: a second one while the first runs is refused", async () => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  sim().attachDom0(hostUuid(), {
    check: () => Promise.resolve(),
    whileXapiDown: async () => {
      await held;
      return {};
    },
    afterInitComplete: () => Promise.resolve([]),
  });
  const first = sim().control.hosts.reboot(hostUuid());
  await expect(sim().control.hosts.reboot(hostUuid())).rejects.toThrow(/already rebooting/);
  release();
  await first;
});

test("the control endpoint reboots a host and answers its report", async () => {
  sim().attachDom0(hostUuid(), recordingHooks({}));
  const { status, body } = await control("POST", `/hosts/${hostUuid()}/reboot`, {});
  expect(status).toBe(200);
  expect(body).toMatchObject({
    kernelNames: { ZS01: "loop3" },
    bootUnits: [],
    haltedVms: expect.any(Array) as unknown,
  });
  expect(await control("POST", `/hosts/${hostUuid()}/reboot`, { kernelNames: ["x"] })).toMatchObject({
    status: 400,
    body: { error: '"kernelNames" must map disk serials to kernel names' },
  });
  expect(await control("POST", `/hosts/${hostUuid()}/reboot`, { downMs: "soon" })).toMatchObject({
    status: 400,
    body: { error: '"downMs" must be a number of milliseconds >= 0' },
  });
  const started = Date.now();
  expect((await control("POST", `/hosts/${hostUuid()}/reboot`, { downMs: 300 })).status).toBe(200);
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  expect((await control("POST", "/hosts/nope/reboot")).status).toBe(400);
  expect((await control("POST", `/hosts/${hostUuid()}/halt`)).status).toBe(404);
});

test("a host without dom0 hooks cannot be asked for kernel names", async () => {
  const { startXapiSimulator } = await import("xen-sandbox");
  const bare = await startXapiSimulator({ gcIntervalMs: 0 });
  try {
    await expect(bare.control.hosts.reboot(bare.host.uuid, { kernelNames: { A: "loop1" } })).rejects.toThrow(
      /needs a dom0 sandbox/,
    );
    const report = await bare.control.hosts.reboot(bare.host.uuid);
    expect(report).toMatchObject({ kernelNames: {}, bootUnits: [], autoStart: [] });
  } finally {
    await bare.stop();
  }
});

test("a long poll open across the reboot has its connection reset", async () => {
  sim().attachDom0(hostUuid(), recordingHooks({}));
  const { token } = await call<{ token: string }>("event.from", ["message"], "", 0);
  // Waits up to 60 s for an event in a class nothing touches during a reboot.
  const poll = rawPost(
    { sim: sim() },
    "/jsonrpc",
    "application/json",
    JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "event.from",
      params: [session, ["message"], token, 60],
    }),
  );
  // The call has reached the dispatcher once a delay-only rule has seen it.
  const { id } = sim().control.faults.add({ method: "event.from", action: "delay-only" });
  await eventually(
    () =>
      (sim()
        .control.faults.list()
        .find((rule) => rule.id === id)?.seen ?? 0) > 0,
    "the poll arrives",
  );
  const outcome = poll.then(
    () => "answered",
    (error: Error) => error.message,
  );
  await sim().control.hosts.reboot(hostUuid());
  expect(await outcome).toMatch(/socket hang up|ECONNRESET/);
});

test("no session survives the master's restart: an old ref answers SESSION_INVALID", async () => {
  const before = await login(sim());
  await sim().control.hosts.reboot(hostUuid());
  expect(await jsonFailure({ sim: sim() }, "VM.get_all", [before])).toEqual(["SESSION_INVALID", before]);
  // A fresh login works at once (the hooks of earlier tests log in during the boot, as xe does).
  session = await login(sim());
  expect(await call<string[]>("VM.get_all")).not.toHaveLength(0);
});
