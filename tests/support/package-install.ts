// The provider package as users get it: `npm pack` of the workspace, then `npm install` of that
// tarball into a fresh program directory, offline. The tarball's dependencies are satisfied by
// `file:` links to the copies already installed in the repository's node_modules (npm links
// those and writes nothing into them), so no registry or npm cache is needed; the package
// itself is unpacked from the tarball into the program's node_modules, a real copy.
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

/** Offline and quiet: these tests must never reach a registry. */
const NPM_ENV = {
  ...process.env,
  npm_config_offline: "true",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
  npm_config_loglevel: "error",
};

/** `npm pack -w provider` into `destination` (the provider must be built: `npx tsc -b`). */
export async function packProvider(destination: string): Promise<PackResult> {
  const { stdout } = await run(
    "npm",
    ["pack", "-w", "provider", "--pack-destination", destination, "--json"],
    {
      cwd: REPO_ROOT,
      env: NPM_ENV,
    },
  );
  const [result] = JSON.parse(stdout) as PackResult[];
  if (result === undefined) throw new Error(`npm pack reported nothing: ${stdout.slice(0, 200)}`);
  return result;
}

/**
 * Creates `<programDir>/package.json` and installs the tarball there with `npm install --offline`.
 * Every dependency the packed package.json declares is linked from the repository's
 * node_modules; a dependency missing there fails loudly instead of reaching the network.
 */
export async function installTarball(programDir: string, tarball: string): Promise<void> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, "provider", "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const dependencies: Record<string, string> = {};
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    const installed = join(REPO_ROOT, "node_modules", name);
    if (!existsSync(join(installed, "package.json"))) {
      throw new Error(`dependency ${name} of ${PACKAGE_NAME} is not installed in ${REPO_ROOT}: run npm ci`);
    }
    dependencies[name] = `file:${installed}`;
  }
  await writeFile(
    join(programDir, "package.json"),
    `${JSON.stringify({ name: "tarball-program", version: "1.0.0", private: true, dependencies }, null, 2)}\n`,
  );
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], {
    cwd: programDir,
    env: NPM_ENV,
  });
}
