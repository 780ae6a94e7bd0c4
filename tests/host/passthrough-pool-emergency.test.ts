// Host tier: a pool member that reboots while its master is down comes up in emergency mode and
// answers HOST_STILL_BOOTING to every call, logins included (xen-api xapi.ml
// server_run_in_emergency_mode). A PassthroughDisk refresh on that member, through the real
// dynamic-provider host and the member's SSH connection, meets those answers, repeats, and
// succeeds once the master is back. The master is held down with the reboot's `downMs` control.
import { startPool } from "xen-sandbox";
import type { PoolHostSandbox, SandboxPool } from "xen-sandbox";
import { useEngine } from "../support/engine";
import { connectionTo } from "../support/sandbox";

/** Long enough for the member's own reboot and a few of the provider's 3 s repeats. */
const MASTER_DOWN_MS = 15_000;

let pool: SandboxPool | undefined;
beforeAll(async () => {
  pool = await startPool({
    hosts: 2,
    disks: [0, 1],
    model: { vms: [{ nameLabel: "on-member", powerState: "Running", host: 1, affinity: 1, guest: "pv" }] },
  });
});
afterAll(async () => {
  await pool?.stop();
});
const engine = useEngine();

function hostsOf(running: SandboxPool | undefined): [PoolHostSandbox, PoolHostSandbox] {
  const [master, member] = running?.hosts ?? [];
  if (master === undefined || member === undefined) throw new Error("the pool did not start: see beforeAll");
  return [master, member];
}

test("a refresh on a member in emergency mode repeats through HOST_STILL_BOOTING and succeeds once the master is back", async () => {
  const [master, member] = hostsOf(pool);
  const { control, hosts } = member.simulator;
  const memberRef = hosts.find((host) => host.uuid === member.host.uuid)?.ref;
  const disk = member.disks.find((each) => !each.inUse);
  if (memberRef === undefined || disk === undefined) throw new Error("the member has no ref or no free disk");
  const args = {
    connection: connectionTo(member),
    disk: { serial: disk.serial },
    vm: { nameLabel: "on-member" },
  };
  const created = await engine().create(args);
  expect(created.state).toMatchObject({ hostUuid: member.host.uuid, currentlyAttached: true });

  let masterBackAt = 0;
  // The master's XAPI answers again no sooner than this.
  const masterUpNoSoonerThan = Date.now() + MASTER_DOWN_MS;
  const masterRebooted = master.reboot({ downMs: MASTER_DOWN_MS }).then((report) => {
    masterBackAt = Date.now();
    return report;
  });
  // The member's XAPI starts while the master is still down: emergency mode.
  await member.reboot();
  expect(masterBackAt).toBe(0);
  const stillBooting = await member.exec("xe host-list --minimal");
  expect(stillBooting.exitCode).not.toBe(0);
  expect(stillBooting.stdout + stillBooting.stderr).toMatch(/HOST_STILL_BOOTING|still booting/i);

  control.trace.reset();
  const refreshed = await engine().refresh(created);
  const refreshedAt = Date.now();
  await masterRebooted;

  expect(refreshed?.state).toMatchObject({ hostUuid: member.host.uuid, vbdUuid: created.state["vbdUuid"] });
  expect(refreshed?.state["observed"]).toMatchObject({ diskPresent: true, vbdPresent: true });
  expect(masterBackAt).toBeGreaterThan(0);
  expect(refreshedAt).toBeGreaterThanOrEqual(masterUpNoSoonerThan);

  // The trace of the member's own socket: calls refused while in emergency mode (the provider's
  // pooled session from the create, or its logins), each repeated 3 s later (xapi-retry.ts), not
  // in a tight loop; then calls answered once the master was back.
  const onMember = control.trace.get().calls.filter((call) => call.host === memberRef);
  const refused = onMember.filter(
    (call) => call.outcome.status === "failure" && call.outcome.code === "HOST_STILL_BOOTING",
  );
  expect(refused.length).toBeGreaterThanOrEqual(2);
  const repeats = new Map<string, number[]>();
  for (const call of refused) {
    const key = `${call.method} ${call.ref ?? ""}`;
    repeats.set(key, [...(repeats.get(key) ?? []), call.startedAt]);
  }
  const mostRepeated = [...repeats.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  expect(mostRepeated.length).toBeGreaterThanOrEqual(2);
  const gaps = mostRepeated.slice(1).map((at, index) => at - mostRepeated[index]!);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(2_900);
  const lastRefused = Math.max(...refused.map((call) => call.startedAt));
  const answered = onMember.filter(
    (call) => call.outcome.status === "success" && call.startedAt > lastRefused,
  );
  expect(answered.length).toBeGreaterThan(0);
  expect(Math.min(...answered.map((call) => call.startedAt))).toBeGreaterThanOrEqual(masterUpNoSoonerThan);

  await engine().destroy(refreshed ?? created);
  expect(control.state().vbds.some((vbd) => vbd.uuid === created.state["vbdUuid"])).toBe(false);
}, 120_000);
