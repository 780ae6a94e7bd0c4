// What the engine's parallelism does to shared per-host work (one inventory exec, one XAPI
// snapshot, one udev round, one SR scan per batch): results stay per resource.
import type { SandboxDisk } from "xen-sandbox";
import type { HostCallError } from "xen-sandbox";
import { useEngine, type Stored } from "../support/engine";
import { connectionTo, useSandbox } from "../support/sandbox";

const sandbox = useSandbox({
  disks: 4,
  model: {
    vms: [
      { nameLabel: "media-server", powerState: "Running" },
      { nameLabel: "backup", powerState: "Running" },
    ],
  },
});
const engine = useEngine();

const free = (): SandboxDisk[] => sandbox().disks.filter((d) => !d.inUse);
const args = (disk: SandboxDisk, vm = "media-server") => ({
  connection: connectionTo(sandbox()),
  disk: { serial: disk.serial },
  vm: { nameLabel: vm },
});
const control = () => sandbox().simulator.control;
const tagged = () =>
  control()
    .state()
    .vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] !== undefined);

afterEach(() => {
  control().faults.clear();
  control().profile.set("zero");
});

test("a failing disk in a batch fails alone; the next up converges it", async () => {
  const disks = free().slice(0, 3);
  // The second VBD.create of the batch fails: exactly one of the three resources.
  control().faults.add({
    method: "VBD.create",
    skip: 1,
    count: 1,
    action: { error: { code: "INTERNAL_ERROR", params: ["injected"] } },
  });
  const outcomes = await Promise.allSettled(disks.map((disk) => engine().create(args(disk))));
  const failed = outcomes.filter((o) => o.status === "rejected");
  const created = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
  expect(failed).toHaveLength(1);
  expect(created.map((c) => c.state["currentlyAttached"])).toEqual([true, true]);

  const index = outcomes.findIndex((o) => o.status === "rejected");
  const reason = (failed[0] as PromiseRejectedResult).reason as HostCallError;
  expect(reason.details).toMatch(/INTERNAL_ERROR/);
  const retried = await engine().create(args(disks[index]!));
  expect(retried.state["currentlyAttached"]).toBe(true);
  await Promise.all([...created, retried].map((c) => engine().destroy(c)));
  expect(tagged()).toEqual([]);
});

test("a create and a delete at once on one host both complete", async () => {
  const [a, b] = free();
  const first = await engine().create(args(a!));
  const [, second] = await Promise.all([engine().destroy(first), engine().create(args(b!))]);
  expect(second.state["currentlyAttached"]).toBe(true);
  expect((await sandbox().exec(`test -e ${String(first.state["rulePath"])}`)).exitCode).not.toBe(0);
  expect((await sandbox().exec(`test -e ${String(first.state["symlinkPath"])}`)).exitCode).not.toBe(0);
  expect(tagged().map((vbd) => vbd.uuid)).toEqual([second.state["vbdUuid"]]);
  await engine().destroy(second);
});

test("plugs into two VMs run in parallel", async () => {
  control().profile.set({ name: "slow plugs", methodExtraMs: { "VBD.plug": 400 } });
  const [a, b] = free();
  control().trace.reset();
  const created = await Promise.all([
    engine().create(args(a!, "media-server")),
    engine().create(args(b!, "backup")),
  ]);
  const plugs = control()
    .trace.get()
    .calls.filter((call) => call.method === "VBD.plug");
  expect(plugs).toHaveLength(2);
  const [p, q] = plugs as [(typeof plugs)[0], (typeof plugs)[0]];
  // The two plug calls overlapped in time: neither waited for the other.
  expect(p.startedAt < q.startedAt + q.durationMs && q.startedAt < p.startedAt + p.durationMs).toBe(true);
  await Promise.all(created.map((c) => engine().destroy(c)));
});

test("a refresh costs one SSH exec and the same XAPI calls for one disk or four", async () => {
  const disks = free();
  const created: Stored[] = await Promise.all(disks.map((disk) => engine().create(args(disk))));
  const cost = async (resources: readonly Stored[]) => {
    control().trace.reset();
    const sessions = sandbox().sshSessions();
    await Promise.all(resources.map((r) => engine().refresh(r)));
    return { execs: sandbox().sshSessions() - sessions, calls: control().trace.get().calls.length };
  };
  const one = await cost(created.slice(0, 1));
  const four = await cost(created);
  expect(one.execs).toBe(1);
  expect(four).toEqual(one);
  await Promise.all(created.map((c) => engine().destroy(c)));
});
