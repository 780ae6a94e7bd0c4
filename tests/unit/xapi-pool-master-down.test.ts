// A pool whose master reboots: a member's XAPI keeps running and its calls wait for the master
// (its master connection reconnects), while a member whose XAPI starts with the master down runs
// in emergency mode and answers HOST_STILL_BOOTING until the master is back.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Dom0BootHooks } from "xen-sandbox";

import { jsonFailure, jsonResult, useXapiSimulator } from "./xapi-fixture";

const sim = useXapiSimulator({
  hostNameLabel: "master",
  members: [{ hostNameLabel: "member-1" }],
  gcIntervalMs: 0,
});
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "xp-master-down-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** dom0 hooks whose power-on waits until `release` is called: the master stays down meanwhile. */
function heldDom0(): { hooks: Dom0BootHooks; release: () => void } {
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  return {
    hooks: {
      check: () => Promise.resolve(),
      whileXapiDown: async () => {
        await held;
        return {};
      },
      afterInitComplete: () => Promise.resolve([]),
    },
    release,
  };
}

test("a running member's call waits while the master is down and is answered once it is back (its session died with the master's XAPI)", async () => {
  const [master, member] = [sim().hosts[0]!, sim().hosts[1]!];
  const socketPath = join(dir, "member-running");
  await sim().listenUnix(socketPath, member.uuid);
  const session = await jsonResult<string>({ socketPath }, "session.login_with_password", ["", ""]);
  const { hooks, release } = heldDom0();
  sim().attachDom0(master.uuid, hooks);

  const rebooted = sim().control.hosts.reboot(master.uuid);
  const answer = jsonFailure({ socketPath }, "host.get_all", [session]);
  let answered = false;
  void answer.then(() => (answered = true));
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(answered).toBe(false);
  release();
  await rebooted;
  // Sessions live in the master's database, which persists none across its restart.
  expect(await answer).toEqual(["SESSION_INVALID", session]);
  const again = await jsonResult<string>({ socketPath }, "session.login_with_password", ["", ""]);
  expect(await jsonResult<string[]>({ socketPath }, "host.get_all", [again])).toHaveLength(2);
});

test("a member that starts while the master is down answers HOST_STILL_BOOTING until the master is back", async () => {
  const [master, member] = [sim().hosts[0]!, sim().hosts[1]!];
  const socketPath = join(dir, "member-booting");
  await sim().listenUnix(socketPath, member.uuid);
  const { hooks, release } = heldDom0();
  sim().attachDom0(master.uuid, hooks);

  const masterRebooted = sim().control.hosts.reboot(master.uuid);
  const memberReport = await sim().control.hosts.reboot(member.uuid);
  expect(await jsonFailure({ socketPath }, "session.login_with_password", ["", ""])).toEqual([
    "HOST_STILL_BOOTING",
  ]);

  release();
  await masterRebooted;
  const session = await jsonResult<string>({ socketPath }, "session.login_with_password", ["", ""]);
  expect(await jsonResult<string>({ socketPath }, "session.get_this_host", [session, session])).toBe(
    member.ref,
  );
  // Its storage init ran once the master was back: the member's PBDs are plugged.
  const attached = await jsonResult<Record<string, { host: string; currently_attached: boolean }>>(
    { socketPath },
    "PBD.get_all_records",
    [session],
  );
  const own = Object.values(attached).filter((pbd) => pbd.host === member.ref);
  expect(own.length).toBeGreaterThan(0);
  expect(own.every((pbd) => pbd.currently_attached)).toBe(true);
  expect(memberReport.autoStart.every((start) => !start.started)).toBe(true);
});

test("a reboot's downMs keeps the host's XAPI down at least that long; a member starting meanwhile is in emergency mode", async () => {
  const [master, member] = [sim().hosts[0]!, sim().hosts[1]!];
  const socketPath = join(dir, "member-down-ms");
  await sim().listenUnix(socketPath, member.uuid);
  await expect(sim().control.hosts.reboot(master.uuid, { downMs: -1 })).rejects.toThrow(
    /downMs must be >= 0/,
  );

  const started = Date.now();
  let masterBackAt = 0;
  const masterRebooted = sim()
    .control.hosts.reboot(master.uuid, { downMs: 600 })
    .then(() => (masterBackAt = Date.now()));
  await sim().control.hosts.reboot(member.uuid);
  expect(masterBackAt).toBe(0);
  expect(await jsonFailure({ socketPath }, "session.login_with_password", ["", ""])).toEqual([
    "HOST_STILL_BOOTING",
  ]);
  await masterRebooted;
  expect(masterBackAt - started).toBeGreaterThanOrEqual(600);
  expect(await jsonResult<string>({ socketPath }, "session.login_with_password", ["", ""])).toMatch(
    /^OpaqueRef:/,
  );
});
