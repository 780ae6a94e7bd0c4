// `npm run demo`: the homelab example against a simulated XenServer host (the xen-sandbox dom0:
// real udevd, sshd and loop disks, plus the XAPI simulator), driven through the real Pulumi
// dynamic-provider host as `pulumi up` would: preview, up, a change behind Pulumi's back,
// refresh, up again, destroy. Leaves nothing behind, on failure and Ctrl-C too.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { DynamicHost, Sandbox } from "xen-sandbox";
import {
  SANDBOX_TOOLS,
  SandboxError,
  assertPrerequisites,
  createEngine,
  startDynamicHost,
  startSandbox,
} from "xen-sandbox";

import { Cleanup, onStopSignal } from "./cleanup";
import { DemoError } from "./errors";
import { HOMELAB_DIR, STACK, declareHomelab, sandboxStackConfig } from "./homelab";
import { seconds } from "./print";
import type { DemoContext } from "./steps";
import { create, destroy, preview, refresh, repair, unplugBehindPulumisBack } from "./steps";

const print = (text: string) => process.stdout.write(`${text}\n`);

/** Why the demo cannot run here and what to do, or undefined when it can. */
function cannotRunHere(): string | undefined {
  try {
    assertPrerequisites(SANDBOX_TOOLS);
  } catch (error) {
    if (!(error instanceof SandboxError) || error.code !== "PREREQUISITES_MISSING") throw error;
    return (
      `npm run demo cannot run here: it starts a simulated XenServer host (a private mount namespace with ` +
      `a real udevd, sshd and loop devices), which needs ${error.params["missing"] ?? "more"}.\n` +
      "What to do: run it on Linux as root (a VM or container with --privileged will do), e.g. `sudo npm run demo`."
    );
  }
  const program = join(HOMELAB_DIR, "dist", "index.js");
  if (!existsSync(program)) {
    throw new DemoError("NOT_BUILT", { program }, `${program} is missing: build first (npm run build).`);
  }
  return undefined;
}

async function startAll(cleanup: Cleanup): Promise<DemoContext> {
  print("Starting the sandbox host (dom0: udevd, sshd, loop disks; XAPI simulator)...");
  const started = performance.now();
  const starting = startSandbox({ disks: 2 });
  cleanup.defer("stop the sandbox", async () => (await starting.catch(() => undefined))?.stop());
  const sandbox: Sandbox = await starting;
  const disks = sandbox.disks.filter((disk) => !disk.inUse);
  const vm = sandbox.vms.find((candidate) => candidate.nameLabel === "media-server");
  print(
    [
      `    host ${sandbox.host.nameLabel}, VM ${vm?.nameLabel ?? "?"} (${vm?.powerState ?? "?"})`,
      `    free disks ${disks.map((disk) => `${disk.serial} (/dev/${disk.kernelName})`).join(", ")}`,
      `    sshd ${sandbox.ssh.host}:${sandbox.ssh.port}, state in ${dirname(sandbox.ssh.privateKeyPath)}`,
      `    started in ${seconds(performance.now() - started)}`,
      "",
    ].join("\n"),
  );

  const declaring = performance.now();
  const stack = await declareHomelab(sandboxStackConfig(sandbox, disks));
  const hostStarting = startDynamicHost({ cwd: HOMELAB_DIR });
  cleanup.defer("stop the dynamic-provider host", async () =>
    (await hostStarting.catch(() => undefined))?.stop(),
  );
  const host: DynamicHost = await hostStarting;
  await host.configure(stack.config); // the engine configures the provider with the stack config first
  const engines = new Map(
    stack.resources.map((resource) => [resource.name, createEngine(host, resource.provider)]),
  );
  print(
    `Program: examples/homelab (project ${stack.project}), stack ${STACK}: ` +
      `${stack.resources.length} resources declared, provider host up (${seconds(performance.now() - declaring)})\n`,
  );
  return { sandbox, stack, engines, checkpoint: new Map(), print };
}

async function runDemo(cleanup: Cleanup): Promise<void> {
  const started = performance.now();
  const context = await startAll(cleanup);
  await preview(context);
  await create(context);
  const drifted = unplugBehindPulumisBack(context);
  await refresh(context, drifted);
  await repair(context, drifted);
  await destroy(context);
  const stopping = performance.now();
  const failures = await cleanup.run();
  if (failures.length > 0) throw new Error(failures.join("\n"));
  print(
    `Sandbox stopped: processes, mounts, loop devices and files removed (${seconds(performance.now() - stopping)}).`,
  );
  print(`Demo complete in ${seconds(performance.now() - started)}.`);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

async function main(): Promise<number> {
  const reason = cannotRunHere();
  if (reason !== undefined) {
    process.stderr.write(`${reason}\n`);
    return 1;
  }
  const cleanup = new Cleanup();
  let interrupted = false;
  onStopSignal((signal) => {
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the sandbox and removing everything it made...\n`);
    void cleanup.run().then((failures) => {
      for (const failure of failures) process.stderr.write(`${failure}\n`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  });
  try {
    await runDemo(cleanup);
    return 0;
  } catch (error) {
    if (interrupted) return new Promise<number>(() => undefined); // the signal handler exits
    process.stderr.write(`\nerror: ${describeError(error)}\n`);
    for (const failure of await cleanup.run()) process.stderr.write(`${failure}\n`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`error: ${describeError(error)}\n`);
    process.exit(1);
  },
);
