// Helpers for host tests around whole-host reboots: XAPI over the sandbox's HTTPS listener, free
// loop device names to reboot disks into, boot units written into dom0, auto_poweron settings.
import { readdirSync } from "node:fs";
import { request } from "node:https";

import type { Sandbox } from "xen-sandbox";

/** A XAPI failure as the wire carries it. */
export class XapiFailure extends Error {
  constructor(
    readonly code: string,
    readonly params: string[],
  ) {
    super(`${code} [${params.join(", ")}]`);
  }
}

function jsonRpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  return new Promise((resolve, reject) => {
    const req = request(
      new URL("/jsonrpc", url),
      { method: "POST", headers: { "content-type": "application/json" }, rejectUnauthorized: false },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => {
          const reply = JSON.parse(text) as { result?: unknown; error?: { message: string; data: string[] } };
          if (reply.error !== undefined && reply.error !== null)
            reject(new XapiFailure(reply.error.message, reply.error.data));
          else resolve(reply.result);
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export type XapiCall = <T = unknown>(method: string, ...args: unknown[]) => Promise<T>;

/**
 * A logged-in XAPI caller on the sandbox's own HTTPS listener. A reboot of the master ends every
 * session (SESSION_INVALID): the caller then logs in again and repeats the call once, as any
 * XAPI client must.
 */
export async function xapiOf(sandbox: Pick<Sandbox, "describe">): Promise<XapiCall> {
  const { xapi } = sandbox.describe();
  const login = () =>
    jsonRpc(xapi.url, "session.login_with_password", [xapi.username, xapi.password, "1.0", "xp-tests"]);
  let session = await login();
  return async <T>(method: string, ...args: unknown[]) => {
    try {
      return (await jsonRpc(xapi.url, method, [session, ...args])) as T;
    } catch (error) {
      if (!(error instanceof XapiFailure) || error.code !== "SESSION_INVALID") throw error;
      session = await login();
      return (await jsonRpc(xapi.url, method, [session, ...args])) as T;
    }
  };
}

/**
 * Loop device names no device has yet, above every existing one at a random offset: other test
 * files run sandboxes (and reboots) meanwhile, and losetup --find takes the lowest free device.
 * losetup creates the device when a disk is attached to it.
 */
export function unusedLoopNames(count: number): string[] {
  const highest = Math.max(
    -1,
    ...readdirSync("/sys/block")
      .filter((name) => /^loop\d+$/.test(name))
      .map((name) => Number(name.slice(4))),
  );
  const base = highest + 1 + Math.floor(Math.random() * 64);
  return Array.from({ length: count }, (_, index) => `loop${base + index}`);
}

/**
 * Writes an executable script and a oneshot unit running it between xapi-init-complete.target and
 * xapi-domains.service into dom0, enabled as `systemctl enable` would (a link in
 * multi-user.target.wants).
 */
export async function writeBootUnit(sandbox: Sandbox, unit: string, script: string): Promise<void> {
  const scriptPath = `/opt/xp-tests/${unit}.sh`;
  const unitFile = [
    "[Unit]",
    `Description=xp-tests ${unit}`,
    "After=xapi-init-complete.target",
    "Before=xapi-domains.service",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${scriptPath}`,
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
  const result = await sandbox.exec(
    `mkdir -p /opt/xp-tests /etc/systemd/system/multi-user.target.wants && ` +
      `cat > ${scriptPath} <<'SCRIPT'\n${script}\nSCRIPT\nchmod 755 ${scriptPath} && ` +
      `cat > /etc/systemd/system/${unit} <<'UNIT'\n${unitFile}UNIT\n` +
      `ln -sf /etc/systemd/system/${unit} /etc/systemd/system/multi-user.target.wants/${unit}`,
  );
  if (result.exitCode !== 0) throw new Error(`could not write boot unit ${unit}: ${result.stderr}`);
}

/** Sets other-config:auto_poweron=true on the pool and on each VM named. */
export async function enableAutoPoweron(call: XapiCall, vmNames: readonly string[]): Promise<void> {
  const [pool] = await call<string[]>("pool.get_all");
  await call("pool.remove_from_other_config", pool, "auto_poweron");
  await call("pool.add_to_other_config", pool, "auto_poweron", "true");
  for (const name of vmNames) {
    const [vm] = await call<string[]>("VM.get_by_name_label", name);
    await call("VM.remove_from_other_config", vm, "auto_poweron");
    await call("VM.add_to_other_config", vm, "auto_poweron", "true");
  }
}

/** A udev rule giving the disk with `serial` a /dev/xapi/block link named `linkName` (udev %-escapes allowed). */
export function linkRule(serial: string, linkName: string, runLocalDeviceChange: boolean): string {
  const match = `SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", ENV{ID_SERIAL_SHORT}=="${serial}"`;
  const run = runLocalDeviceChange ? ', RUN+="/opt/xensource/libexec/local-device-change %k"' : "";
  return `ACTION=="add|change", ${match}, SYMLINK+="xapi/block/${linkName}"${run}\n`;
}
