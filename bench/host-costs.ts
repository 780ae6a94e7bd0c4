/**
 * What the sandbox host's sshd costs by itself, measured by a warm client (this process, ssh2
 * already loaded, nothing else to do): an SSH connection's set-up, and one exec of `true` on an
 * open connection. The floor counts round trips alone for both (the profile has no figure for
 * sshd's fork, key exchange and session start), so these say how much of the gap between our
 * time and the floor belongs to the host whatever the client. Printed beside the table; never
 * part of the floor.
 */
import type { Client } from "ssh2";
import { dial, type SshTarget } from "./ssh-command";
import { median } from "./summary";

export interface HostCosts {
  /** Median time from dial to an authenticated connection. */
  readonly sshSetupMs: number;
  /** Median time of `exec true` on an open connection, from the request to the channel's close. */
  readonly bareExecMs: number;
  readonly samples: number;
}

/** Choice: five of each, enough for a median that one slow dial does not move. */
export const HOST_COST_SAMPLES = 5;

export async function measureHostCosts(target: SshTarget, samples = HOST_COST_SAMPLES): Promise<HostCosts> {
  const setups: number[] = [];
  const execs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const client = await dial(target);
    setups.push(performance.now() - started);
    try {
      const execStarted = performance.now();
      await execTrue(client);
      execs.push(performance.now() - execStarted);
    } finally {
      // A reset can still arrive after we are done with the connection: nothing to report.
      client.on("error", () => undefined);
      client.end();
    }
  }
  return { sshSetupMs: median(setups), bareExecMs: median(execs), samples };
}

function execTrue(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    client.exec("true", (error, channel) => {
      if (error !== undefined) return reject(error);
      channel.resume();
      channel.stderr.resume();
      channel.once("close", (code: number | null) =>
        code === 0 ? resolve() : reject(new Error(`\`true\` exited ${String(code)} on the sandbox host`)),
      );
    });
  });
}
