// The homelab example as `pulumi up` would run it against the sandbox: its stack config points at
// the sandbox's dom0, the program runs (under mocks: nothing is created) and every dynamic
// resource it declares comes back with the inputs the engine would send the provider host.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Sandbox, SandboxDisk } from "xen-sandbox";
import { readProjectFile, runProgramUnderMocks, withSecretsRevealed } from "xen-sandbox";

export const HOMELAB_DIR = join(__dirname, "..", "..", "homelab");
export const STACK = "sandbox";
/** The sandbox's Running VM (the simulator seeds "media-server" Running and "archive" Halted). */
const VM_NAME = "media-server";

/** One resource of the program, as the engine would hand it to the dynamic-provider host. */
export interface DeclaredResource {
  readonly name: string;
  /** The type as `pulumi up` lists it. */
  readonly type: string;
  /** Inputs without `__provider`, secrets unwrapped (the host does not accept secrets). */
  readonly args: Record<string, unknown>;
  /** The serialized provider (`__provider`). */
  readonly provider: string;
}

export interface HomelabStack {
  readonly project: string;
  /** Namespaced stack config as strings: what the engine passes to Configure. */
  readonly config: Record<string, string>;
  readonly resources: readonly DeclaredResource[];
}

/** The program's PassthroughDisks show under the package's name, as in the README. */
const DISPLAY_TYPE = "pulumi-xen-passthrough:PassthroughDisk";

/** Stack config for the homelab program, pointing at the sandbox's dom0 and free disks. */
export function sandboxStackConfig(sandbox: Sandbox, disks: readonly SandboxDisk[]): Record<string, unknown> {
  return {
    host: sandbox.ssh.host,
    hostKey: sandbox.ssh.hostKey,
    sshPrivateKey: readFileSync(sandbox.ssh.privateKeyPath, "utf8"),
    sshPort: sandbox.ssh.port,
    vmName: VM_NAME,
    diskSerials: disks.map((disk) => disk.serial),
  };
}

/** Runs the compiled homelab program with this config and returns what it declares. */
export async function declareHomelab(config: Record<string, unknown>): Promise<HomelabStack> {
  const { name: project } = readProjectFile(join(HOMELAB_DIR, "Pulumi.yaml"));
  const run = await runProgramUnderMocks({
    program: join(HOMELAB_DIR, "dist", "index.js"),
    project,
    config,
    secretKeys: ["sshPrivateKey"],
  });
  if (run.error !== undefined) throw new Error(`the homelab program failed: ${run.error}`);
  const resources = run.resources.flatMap((resource): DeclaredResource[] => {
    const { __provider: provider, ...inputs } = withSecretsRevealed(resource.inputs) as Record<
      string,
      unknown
    >;
    if (typeof provider !== "string") return [];
    return [{ name: resource.name, type: DISPLAY_TYPE, args: inputs, provider }];
  });
  const namespaced = Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      `${project}:${key}`,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
  return { project, config: namespaced, resources };
}
