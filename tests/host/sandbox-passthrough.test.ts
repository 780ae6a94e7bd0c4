// Host tier: the dom0 sandbox as the provider will use it. A passthrough rule written over
// real SSH gives a real /dev/xapi/block link; local-device-change introduces the VDI through
// xe; XAPI, reached through the same SSH connection, plugs it into a VM; a disk that comes
// back under another kernel name after a "reboot" yields a new VDI and loses its VBD.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type { AddressInfo, Server } from "node:net";

import { Client } from "ssh2";
import type { Xapi } from "xen-api";

import { DEFAULT_GC_INTERVAL_MS } from "xen-sandbox";

import { useSandbox } from "../support/sandbox";
import { vbdRecord } from "../support/xapi-records";
import { connectSsh, forwardXapi } from "../support/ssh-xapi";

// XAPI's GC period (30 s, the simulator's default); the test that stands inside the GC's window
// stops the timer for its duration and runs the pass itself.
const sandbox = useSandbox({ disks: 2 });
const TEST_TAG = { other_config: { "xen-passthrough-test": "1" } };
const RULE_PATH = "/etc/udev/rules.d/65-xen-passthrough-test.rules";

type XapiRecord = Record<string, unknown>;

let ssh: Client;
let forwarder: Server;
let xapi: Xapi;

/** Runs a command over SSH; resolves with its output and exit code. */
function sshExec(command: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    ssh.exec(command, (error, channel) => {
      if (error) {
        reject(error);
        return;
      }
      let stdout = "";
      let stderr = "";
      channel.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      channel.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      channel.on("close", (code: number | null) => resolve({ stdout, stderr, code: code ?? -1 }));
    });
  });
}

/**
 * The VDIs at a location once there are `count` of them (or after 10 s: the caller's assertion
 * then fails): udev runs local-device-change in the background, after the event has settled.
 */
async function vdisAt(location: string, count: number): Promise<XapiRecord[]> {
  for (let attempt = 0; ; attempt += 1) {
    const vdis = Object.values(await xapi.call<Record<string, XapiRecord>>("VDI.get_all_records"));
    const here = vdis.filter((vdi) => vdi["location"] === location);
    if (here.length === count || attempt >= 100) return here;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function passthroughRule(idSerial: string): string {
  const match = `SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", ENV{ID_SERIAL}=="${idSerial}"`;
  const run = 'RUN+="/opt/xensource/libexec/local-device-change %k"';
  return `ACTION=="add|change", ${match}, SYMLINK+="xapi/block/%k", ${run}\nACTION=="remove", ${match}, ${run}\n`;
}

describe("a passthrough rule written over real SSH", () => {
  // Inside the describe: these hooks run before useSandbox's afterAll stops the sandbox.
  beforeAll(async () => {
    ssh = await connectSsh(sandbox().describe());
    forwarder = await forwardXapi(ssh);
    const { createClient } = await import("xen-api");
    const port = (forwarder.address() as AddressInfo).port;
    xapi = createClient({
      url: `http://127.0.0.1:${port}`,
      auth: { user: "", password: "" },
      watchEvents: false,
    });
    await xapi.connect();
  });

  afterAll(async () => {
    await xapi?.disconnect();
    forwarder?.close();
    const closed = once(ssh, "close");
    ssh.end();
    await closed;
  });

  let firstVdi: XapiRecord;
  let vbd: string;

  test("sshd's log counts connections and sessions (forwarding channels are no sessions)", async () => {
    const connections = sandbox().sshConnections();
    const sessions = sandbox().sshSessions();
    expect(connections).toBeGreaterThanOrEqual(1);
    await sshExec("true");
    await xapi.call("host.get_all");
    expect(sandbox().sshSessions()).toBe(sessions + 1);
    expect(sandbox().sshConnections()).toBe(connections);
  });

  test("rejects a host key other than the sandbox's", async () => {
    const { ssh: target } = sandbox().describe();
    const client = new Client();
    const failed = once(client, "error");
    client.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: readFileSync(target.privateKeyPath),
      hostVerifier: () => false,
    });
    const [error] = (await failed) as [Error];
    expect(error.message).toMatch(/verif/i);
  });

  test("gives the disk a real /dev/xapi/block link and local-device-change introduces its VDI", async () => {
    const disk = sandbox().disks[0]!;
    const idSerial = (await sshExec(`udevadm info --query=property --name=/dev/${disk.kernelName}`)).stdout
      .split("\n")
      .find((line) => line.startsWith("ID_SERIAL="))
      ?.slice("ID_SERIAL=".length);
    expect(idSerial).toContain(disk.serial);

    const written = await sshExec(
      `cat > ${RULE_PATH} <<'EOF'\n${passthroughRule(idSerial!)}EOF\n` +
        `udevadm control --reload && udevadm trigger --action=change --settle /sys/class/block/${disk.kernelName}`,
    );
    expect(written).toMatchObject({ code: 0 });

    const link = await sshExec(`readlink -f /dev/xapi/block/${disk.kernelName}`);
    expect(link.stdout.trim()).toBe(`/dev/${disk.kernelName}`);
    // The other disk has no rule: no link.
    expect((await sshExec(`ls /dev/xapi/block`)).stdout.trim().split("\n")).toEqual([disk.kernelName]);

    const vdis = await vdisAt(`/dev/xapi/block/${disk.kernelName}`, 1);
    expect(vdis).toHaveLength(1);
    firstVdi = vdis[0]!;
    expect(firstVdi).toMatchObject({ type: "user", virtual_size: disk.sizeBytes });
  });

  test("the VDI plugs into a Running VM through XAPI over the SSH connection", async () => {
    const running = sandbox().vms.find(
      (vm) => vm.powerState === "Running" && !vm.nameLabel.startsWith("Control"),
    );
    expect(running).toBeDefined();
    const vm = await xapi.call<string>("VM.get_by_uuid", running!.uuid);
    const vdi = await xapi.call<string>("VDI.get_by_uuid", firstVdi["uuid"]);
    vbd = await xapi.call<string>("VBD.create", vbdRecord(vm, vdi, TEST_TAG));
    await xapi.call("VBD.plug", vbd);
    expect(await xapi.call("VBD.get_currently_attached", vbd)).toBe(true);
  });

  test("plugging into a Halted VM fails with VM_BAD_POWER_STATE", async () => {
    const halted = sandbox().vms.find((vm) => vm.powerState === "Halted");
    expect(halted).toBeDefined();
    const vm = await xapi.call<string>("VM.get_by_uuid", halted!.uuid);
    const vdi = await xapi.call<string>("VDI.get_by_uuid", firstVdi["uuid"]);
    const created = await xapi.call<string>("VBD.create", { ...vbdRecord(vm, vdi, TEST_TAG), mode: "RO" });
    await expect(xapi.call("VBD.plug", created)).rejects.toMatchObject({
      code: "VM_BAD_POWER_STATE",
      params: [vm, "running", "halted"],
    });
    await xapi.call("VBD.destroy", created);
  });

  test("a disk back under another kernel name after a reboot yields a new VDI; the GC takes the old VBD", async () => {
    const gc = sandbox().simulator.control.gc;
    gc.setIntervalMs(0);
    try {
      await renameAndCollect();
    } finally {
      gc.setIntervalMs(DEFAULT_GC_INTERVAL_MS);
    }
  });

  /** The disk comes back under another name; the old VBD keeps its dead VDI until the GC pass. */
  async function renameAndCollect(): Promise<void> {
    const disk = sandbox().disks[0]!;
    const before = disk.kernelName;
    const after = await sandbox().rebootDisk(disk.serial);
    expect(after).not.toBe(before);
    expect(sandbox().disks[0]!.kernelName).toBe(after);

    expect((await sshExec(`readlink -f /dev/xapi/block/${after}`)).stdout.trim()).toBe(`/dev/${after}`);
    expect((await sshExec(`test -e /dev/xapi/block/${before}`)).code).not.toBe(0);
    expect(await vdisAt(`/dev/xapi/block/${before}`, 0)).toEqual([]);
    const renamed = await vdisAt(`/dev/xapi/block/${after}`, 1);
    expect(renamed).toHaveLength(1);
    expect(renamed[0]!["uuid"]).not.toBe(firstVdi["uuid"]);

    await xapi.call(
      "SR.scan",
      await xapi.call("VDI.get_SR", await xapi.call("VDI.get_by_uuid", renamed[0]!["uuid"])),
    );
    // Until XAPI's database GC runs (xen-api db_gc_util.ml gc_VBDs), the VBD keeps its dead VDI ref.
    const oldVdi = await xapi.call<string>("VBD.get_VDI", vbd);
    await expect(xapi.call("VDI.get_record", oldVdi)).rejects.toMatchObject({ code: "HANDLE_INVALID" });
    await expect(xapi.call("VBD.plug", vbd)).rejects.toMatchObject({
      code: "HANDLE_INVALID",
      params: ["VDI", oldVdi],
    });
    expect(sandbox().simulator.control.gc.run().destroyedVbds).toEqual([vbd]);
    await expect(xapi.call("VBD.get_record", vbd)).rejects.toMatchObject({ code: "HANDLE_INVALID" });
  }

  test("hot-unplug removes the link and forgets the VDI; re-plug introduces a fresh one", async () => {
    const disk = sandbox().disks[0]!;
    const name = disk.kernelName;
    const marker = "/run/xp-test-add-";
    const rule = `ACTION=="add", SUBSYSTEM=="block", ENV{ID_SERIAL_SHORT}=="${disk.serial}", RUN+="/bin/touch ${marker}%k"`;
    await sandbox().exec(
      `echo '${rule}' > /etc/udev/rules.d/66-xp-test-adds.rules && udevadm control --reload`,
    );
    await sandbox().unplugDisk(disk.serial);
    expect(disk.kernelName).toBe("");
    expect(await vdisAt(`/dev/xapi/block/${name}`, 0)).toEqual([]);
    // udev removes the emptied directory with its last link.
    expect((await sshExec("test -e /dev/xapi/block")).code).not.toBe(0);

    const back = await sandbox().replugDisk(disk.serial);
    expect(await vdisAt(`/dev/xapi/block/${back}`, 1)).toHaveLength(1);
    // A disk plugged in is announced with an "add" event, as a real new disk is.
    expect((await sshExec(`test -e ${marker}${back}`)).code).toBe(0);
  });
});
