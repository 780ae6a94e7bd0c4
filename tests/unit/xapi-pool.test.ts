// A simulated pool: one database behind three hosts. Member sockets log in as local superuser and
// serve the pool's data, remote member logins answer HOST_IS_SLAVE, VM.start places by SR
// reachability and affinity, and a local disk pins a VM to its host (migrate and plug fail).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemoryDeviceDirectory } from "xen-sandbox";
import { connectClient, jsonFailure, jsonResult, useXapiSimulator, vbdRecord } from "./xapi-fixture";
import type { Target } from "./xapi-fixture";

const memberDisks = new InMemoryDeviceDirectory();
memberDisks.add({ name: "sdb", sizeBytes: 1024 ** 3, nameLabel: "SCSI 2:0:0:0" });
const sim = useXapiSimulator({
  username: "root",
  password: "s3cret",
  hostNameLabel: "master",
  members: [{ hostNameLabel: "member-1", devices: memberDisks }, { hostNameLabel: "member-2" }],
  model: {
    vms: [
      { nameLabel: "on-master", powerState: "Running" },
      { nameLabel: "on-member-2", powerState: "Running", host: 2 },
      { nameLabel: "halted", powerState: "Halted", affinity: 1 },
    ],
  },
});
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "xp-xapi-pool-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function hostNamed(name: string) {
  const host = sim().hosts.find((each) => each.nameLabel === name);
  if (host === undefined) throw new Error(`no host ${name}`);
  return host;
}

function vmNamed(name: string) {
  const vm = sim()
    .control.state()
    .vms.find((each) => each.nameLabel === name);
  if (vm === undefined) throw new Error(`no VM ${name}`);
  return vm;
}

/** The remote (HTTPS) listener of one host. */
function tlsOf(url: string): Target {
  return { sim: { ...sim(), url } };
}

async function masterSession(): Promise<string> {
  return jsonResult<string>({ sim: sim() }, "session.login_with_password", ["root", "s3cret"]);
}

test("the pool record names the master; every host has its own dom0 and its own udev SR", async () => {
  const session = await masterSession();
  const pools = await jsonResult<string[]>({ sim: sim() }, "pool.get_all", [session]);
  expect(pools).toHaveLength(1);
  expect(await jsonResult({ sim: sim() }, "pool.get_master", [session, pools[0]])).toBe(
    hostNamed("master").ref,
  );
  const state = sim().control.state();
  expect(state.hosts.map((host) => [host.nameLabel, host.isMaster])).toEqual([
    ["master", true],
    ["member-1", false],
    ["member-2", false],
  ]);
  for (const host of state.hosts) {
    const pbds = await jsonResult<string[]>({ sim: sim() }, "SR.get_PBDs", [session, host.removableSr]);
    expect(pbds).toHaveLength(1);
    expect(await jsonResult({ sim: sim() }, "PBD.get_host", [session, pbds[0]])).toBe(host.ref);
    const dom0 = await jsonResult<string>({ sim: sim() }, "host.get_control_domain", [session, host.ref]);
    expect(await jsonResult({ sim: sim() }, "VM.get_resident_on", [session, dom0])).toBe(host.ref);
  }
  // Each udev SR lists its own host's devices: only member-1 has one.
  const vdis = state.vdis.filter((vdi) => state.hosts.some((host) => host.removableSr === vdi.sr));
  expect(vdis.map((vdi) => [vdi.sr, vdi.location])).toEqual([
    [state.hosts[1]?.removableSr, "/dev/xapi/block/sdb"],
  ]);
});

test("a member's Unix socket logs in as local superuser whatever the credentials, and serves the pool", async () => {
  // xapi_session.ml login_with_password (preauth root) and api_server.ml forwarding.
  const member = hostNamed("member-2");
  const socketPath = join(dir, "member-2-xapi");
  await sim().listenUnix(socketPath, member.uuid);
  const session = await jsonResult<string>({ socketPath }, "session.login_with_password", ["", ""]);
  expect(await jsonResult({ socketPath }, "session.get_is_local_superuser", [session, session])).toBe(true);
  expect(await jsonResult({ socketPath }, "session.get_this_host", [session, session])).toBe(member.ref);
  const hosts = await jsonResult<string[]>({ socketPath }, "host.get_all", [session]);
  expect(hosts.sort()).toEqual(
    sim()
      .hosts.map((host) => host.ref)
      .sort(),
  );
  expect(await jsonResult({ socketPath }, "VM.get_name_label", [session, vmNamed("on-master").ref])).toBe(
    "on-master",
  );
});

test("a remote login on a member answers HOST_IS_SLAVE with the master's address; the master's succeeds", async () => {
  const member = hostNamed("member-1");
  expect(member.url).not.toBe(sim().url);
  expect(
    await jsonFailure(tlsOf(member.url), "session.login_with_password", ["root", "s3cret", "1.0", "t"]),
  ).toEqual(["HOST_IS_SLAVE", "127.0.0.1"]);
  expect(await masterSession()).toMatch(/^OpaqueRef:/);
});

test("the npm xen-api client given a member's URL follows HOST_IS_SLAVE to the master", async () => {
  const member = hostNamed("member-1");
  // Each host has a loopback address of its own, all on one port, as real hosts share 443.
  expect(new URL(member.url).port).toBe(new URL(sim().url).port);
  expect(new URL(member.url).hostname).not.toBe(new URL(sim().url).hostname);
  const xapi = await connectClient(sim(), "json-rpc", { url: member.url, watchEvents: false });
  try {
    const session = xapi.sessionId as string;
    // The session was made where the client logged in (session.* calls are closed to the client).
    expect(await jsonResult({ sim: sim() }, "session.get_this_host", [session, session])).toBe(
      hostNamed("master").ref,
    );
  } finally {
    await xapi.disconnect();
  }
});

test("seeded guests are resident on their host; VM.affinity is settable", async () => {
  const session = await masterSession();
  expect(vmNamed("on-member-2").residentOn).toBe(hostNamed("member-2").ref);
  expect(vmNamed("halted").affinity).toBe(hostNamed("member-1").ref);
  const vm = vmNamed("on-master").ref;
  await jsonResult({ sim: sim() }, "VM.set_affinity", [session, vm, hostNamed("member-2").ref]);
  expect(await jsonResult({ sim: sim() }, "VM.get_affinity", [session, vm])).toBe(hostNamed("member-2").ref);
  await jsonResult({ sim: sim() }, "VM.set_affinity", [session, vm, "OpaqueRef:NULL"]);
});

/** A Disk VBD on the VM for the udev VDI at `location` (member-1's sdb by default). */
async function passThrough(session: string, vm: string, location = "/dev/xapi/block/sdb"): Promise<string> {
  const vdi = sim()
    .control.state()
    .vdis.find((each) => each.location === location);
  return jsonResult<string>({ sim: sim() }, "VBD.create", [session, vbdRecord(vm, vdi?.ref ?? "")]);
}

test("VM.start prefers the affinity host, and goes where all the VM's SRs are reachable", async () => {
  // xapi_vm_placement.ml select_host: the affinity host first, then any host that passes
  // assert_can_boot_here (xapi_vm_helpers.ml assert_can_see_SRs).
  const session = await masterSession();
  const vm = vmNamed("halted").ref;
  await jsonResult({ sim: sim() }, "VM.start", [session, vm, false, false]);
  expect(vmNamed("halted").residentOn).toBe(hostNamed("member-1").ref);
  await jsonResult({ sim: sim() }, "VM.hard_shutdown", [session, vm]);

  // With a disk only member-1 reaches, affinity elsewhere does not matter.
  await jsonResult({ sim: sim() }, "VM.set_affinity", [session, vm, hostNamed("member-2").ref]);
  const vbd = await passThrough(session, vm);
  await jsonResult({ sim: sim() }, "VM.start", [session, vm, false, false]);
  expect(vmNamed("halted").residentOn).toBe(hostNamed("member-1").ref);
  expect(await jsonResult({ sim: sim() }, "VBD.get_currently_attached", [session, vbd])).toBe(true);

  // VM.pool_migrate to a host without that SR: VM_REQUIRES_SR [vm, sr] (reserve_memory_for_vm ->
  // assert_can_boot_here -> assert_can_see_SRs), and the VM stays where it is.
  const udevSr = sim().control.state().hosts[1]?.removableSr;
  expect(
    await jsonFailure({ sim: sim() }, "VM.pool_migrate", [session, vm, hostNamed("master").ref, {}]),
  ).toEqual(["VM_REQUIRES_SR", vm, udevSr]);
  expect(vmNamed("halted").residentOn).toBe(hostNamed("member-1").ref);
  await jsonResult({ sim: sim() }, "VM.hard_shutdown", [session, vm]);
  await jsonResult({ sim: sim() }, "VBD.destroy", [session, vbd]);
  await jsonResult({ sim: sim() }, "VM.set_affinity", [session, vm, "OpaqueRef:NULL"]);
});

test("VM.start fails NO_HOSTS_AVAILABLE when no host reaches all of the VM's SRs", async () => {
  const session = await masterSession();
  const vm = vmNamed("halted").ref;
  const onMember = await passThrough(session, vm, "/dev/xapi/block/sdb");
  // A second passed-through disk, from the master's udev SR: no host reaches both SRs.
  sim().control.devices.add({ name: "sdc", sizeBytes: 2 * 1024 ** 3 });
  await jsonResult({ sim: sim() }, "SR.scan", [session, sim().control.state().hosts[0]?.removableSr]);
  const onMaster = await passThrough(session, vm, "/dev/xapi/block/sdc");
  expect(await jsonFailure({ sim: sim() }, "VM.start", [session, vm, false, false])).toEqual([
    "NO_HOSTS_AVAILABLE",
  ]);
  expect(vmNamed("halted").powerState).toBe("Halted");
  for (const vbd of [onMember, onMaster]) await jsonResult({ sim: sim() }, "VBD.destroy", [session, vbd]);
});

test("VM.start_on boots on the named host, and fails VM_REQUIRES_SR on a host without the disk's SR", async () => {
  // message_forwarding.ml VM.start_on -> reserve_memory_for_vm -> assert_can_boot_here.
  const session = await masterSession();
  const vm = vmNamed("halted").ref;
  const vbd = await passThrough(session, vm);
  const udevSr = sim().control.state().hosts[1]?.removableSr;
  expect(
    await jsonFailure({ sim: sim() }, "VM.start_on", [session, vm, hostNamed("member-2").ref, false, false]),
  ).toEqual(["VM_REQUIRES_SR", vm, udevSr]);
  expect(vmNamed("halted").powerState).toBe("Halted");
  await jsonResult({ sim: sim() }, "VM.start_on", [session, vm, hostNamed("member-1").ref, false, false]);
  expect(vmNamed("halted").residentOn).toBe(hostNamed("member-1").ref);
  expect(
    await jsonFailure({ sim: sim() }, "VM.start_on", [session, vm, hostNamed("member-1").ref, false, false]),
  ).toEqual(["VM_BAD_POWER_STATE", vm, "halted", "running"]);
  await jsonResult({ sim: sim() }, "VM.hard_shutdown", [session, vm]);
  await jsonResult({ sim: sim() }, "VBD.destroy", [session, vbd]);
});

test("VBD.plug on a Running VM resident on a host without the VDI's SR fails as xenopsd does", async () => {
  const session = await masterSession();
  const vm = vmNamed("on-member-2").ref;
  const vbd = await passThrough(session, vm);
  const udevSr = sim().control.state().hosts[1]?.removableSr ?? "";
  const srUuid = sim()
    .control.state()
    .srs.find((sr) => sr.ref === udevSr)?.uuid;
  expect(await jsonFailure({ sim: sim() }, "VBD.plug", [session, vbd])).toEqual([
    "INTERNAL_ERROR",
    `xenopsd internal error: Storage_error ([S(No_storage_plugin_for_sr);S(${srUuid})])`,
  ]);
  expect(await jsonResult({ sim: sim() }, "VBD.get_currently_attached", [session, vbd])).toBe(false);
  await jsonResult({ sim: sim() }, "VBD.destroy", [session, vbd]);
});
