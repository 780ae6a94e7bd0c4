// Host tier: a pool mid-upgrade (master on sm 3.2.3, member on sm 2.30.8) where the member
// reboots through the control endpoint: its own dom0 power-cycles (its disk comes back under the
// asked name), its guest halts and auto-starts again, no initial GC pass runs (only a master
// runs one at its start), and stop() still leaves nothing behind.
import { existsSync } from "node:fs";
import { dirname } from "node:path";

import { startPool } from "xen-sandbox";
import type { RebootReport } from "xen-sandbox";

import { enableAutoPoweron, unusedLoopNames, xapiOf } from "../support/host-reboot";
import { DEV_DIRS, expectNothingLeft, oursUnder } from "../support/leftovers";

test("a member of a mixed pool reboots through the control endpoint and the pool still stops cleanly", async () => {
  const devDirsBefore = DEV_DIRS.filter((dir) => existsSync(dir));
  const pool = await startPool({ hosts: 2, disks: 1, smVersion: ["3.2.3", "2.30.8"] });
  let stopped = false;
  try {
    const [master, member] = pool.hosts as [(typeof pool.hosts)[0], (typeof pool.hosts)[0]];
    expect((await master.exec("rpm -q --qf '%{VERSION}\\n' sm")).stdout).toBe("3.2.3\n");
    expect((await member.exec("rpm -q --qf '%{VERSION}\\n' sm")).stdout).toBe("2.30.8\n");
    expect(member.smVersion).toBe("2.30.8");

    const call = await xapiOf(master);
    const products = await Promise.all(
      [master, member].map(async (host) => {
        const ref = await call<string>("host.get_by_uuid", host.host.uuid);
        return (await call<Record<string, string>>("host.get_software_version", ref))["product_version"];
      }),
    );
    expect(products).toEqual(["8.3.0", "8.2.1"]);

    const guestName = `guest-on-${member.host.nameLabel}`;
    await enableAutoPoweron(call, [guestName]);
    const [guest = ""] = await call<string[]>("VM.get_by_name_label", guestName);
    const disk = member.disks.find((each) => !each.inUse)!;
    const [newName = ""] = unusedLoopNames(1);

    const response = await fetch(new URL(`/hosts/${member.host.uuid}/reboot`, pool.simulator.controlUrl), {
      method: "POST",
      body: JSON.stringify({ kernelNames: { [disk.serial]: newName } }),
      headers: { "content-type": "application/json" },
    });
    const report = (await response.json()) as RebootReport;

    expect(response.status).toBe(200);
    expect(report.kernelNames[disk.serial]).toBe(newName);
    expect(member.describe().disks.find((each) => each.serial === disk.serial)?.kernelName).toBe(newName);
    expect(report.haltedVms).toEqual([await call("VM.get_uuid", guest)]);
    expect(report.initialGc).toBeUndefined();
    expect(report.autoStart).toEqual([{ vm: await call("VM.get_uuid", guest), started: true }]);
    expect(await call("VM.get_power_state", guest)).toBe("Running");
    // The member's XAPI answers again, over its own dom0 socket.
    expect((await member.exec("xe host-list --minimal")).exitCode).toBe(0);

    // Taken after the reboot: the member's udevd is a new process now.
    const ours = pool.hosts.map((host) => oursUnder(process.pid, dirname(host.ssh.privateKeyPath)));
    await pool.stop();
    stopped = true;
    for (const host of ours) await expectNothingLeft(host, devDirsBefore);
  } finally {
    if (!stopped) await pool.stop();
  }
});
