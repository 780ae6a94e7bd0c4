// The provider package as users get it: `npm pack` of the workspace, then `npm install` of that
// tarball into a fresh program directory, offline. The tarball's dependencies (and its peer,
// @pulumi/pulumi) are satisfied by `file:` links to the copies already installed in the
// repository's node_modules (npm links those and writes nothing into them), so no registry or
// npm cache is needed; the package itself is unpacked from the tarball into the program's
// node_modules, a real copy.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const REPO_ROOT = join(__dirname, "..", "..", "..");
export const PACKAGE_NAME = "pulumi-xen-passthrough";

/** What `npm pack --json` reports about the tarball. */
export interface PackResult {
  readonly filename: string;
  /** Compressed size in bytes. */
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

/** Quiet, and offline unless asked otherwise: the test tier must never reach a registry. */
export function npmEnv(online = false): NodeJS.ProcessEnv {
  return {
    ...process.env,
    npm_config_offline: online ? "false" : "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    npm_config_loglevel: "error",
  };
}

/** `npm pack -w provider` into `destination` (its `prepack` builds the provider first). */
export async function packProvider(destination: string): Promise<PackResult> {
  const { stdout } = await run(
    "npm",
    ["pack", "-w", "provider", "--pack-destination", destination, "--json"],
    { cwd: REPO_ROOT, env: npmEnv() },
  );
  // prepack's output comes first: the JSON report is the last thing printed.
  const [result] = JSON.parse(stdout.slice(stdout.indexOf("["))) as PackResult[];
  if (result === undefined) throw new Error(`npm pack reported nothing: ${stdout.slice(0, 200)}`);
  return result;
}

/** `file:` spec of a package installed in the repository's node_modules; fails when it is not. */
export function repositoryCopy(name: string): string {
  const installed = join(REPO_ROOT, "node_modules", name);
  if (!existsSync(join(installed, "package.json"))) {
    throw new Error(`${name} is not installed in ${REPO_ROOT}: run npm ci`);
  }
  return `file:${installed}`;
}

/** The dependencies and peer dependencies the provider's package.json declares. */
export async function providerRequirements(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, "provider", "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  return [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})];
}

/** `npm install --offline` of these specs in `dir` (scripts off: nothing to build). */
export async function npmInstall(dir: string, specs: readonly string[]): Promise<void> {
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", ...specs], {
    cwd: dir,
    env: npmEnv(),
  });
}

/**
 * Creates `<programDir>/package.json` and installs the tarball there with `npm install --offline`,
 * every dependency and the peer @pulumi/pulumi linked from the repository's node_modules.
 */
export async function installTarball(programDir: string, tarball: string): Promise<void> {
  const dependencies = Object.fromEntries(
    (await providerRequirements()).map((name) => [name, repositoryCopy(name)]),
  );
  await writeFile(
    join(programDir, "package.json"),
    `${JSON.stringify({ name: "tarball-program", version: "1.0.0", private: true, dependencies }, null, 2)}\n`,
  );
  await npmInstall(programDir, [tarball]);
}
