// The examples as users take them: each copied out of the repository into an empty directory,
// installed from the packed tarball (its other dependencies linked from the repository's
// node_modules, offline), type-checked and compiled with its own tsconfig.json, and run under
// Pulumi mocks with its own package.json's dependencies and nothing from the repository.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, readdir, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { readStackConfig, runProgramUnderMocks, type MockRun } from "xen-sandbox";
import {
  npmInstall,
  PACKAGE_NAME,
  packProvider,
  providerRequirements,
  repositoryCopy,
  REPO_ROOT,
} from "../support/package-install";

const run = promisify(execFile);
const DISK_TYPE = "pulumi-nodejs:dynamic/xen-passthrough:PassthroughDisk";
const SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nplaceholder\n-----END OPENSSH PRIVATE KEY-----";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfDom0";

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

let work: string;
let tarball: string;

beforeAll(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), "xen-passthrough-examples-")));
  tarball = join(work, (await packProvider(work)).filename);
}, 60_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** Copies the example (sources and project files, no build output) into an empty directory and installs it. */
async function copyOut(example: string): Promise<string> {
  const dir = join(work, example);
  const source = join(REPO_ROOT, "examples", example);
  await cp(source, dir, { recursive: true, filter: (path) => !path.startsWith(join(source, "dist")) });
  const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Manifest;
  const names = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})];
  expect(names).toContain(PACKAGE_NAME);
  // The tarball's own dependencies are linked too, so npm never needs the registry.
  const links = [...new Set([...names, ...(await providerRequirements())])]
    .filter((name) => name !== PACKAGE_NAME)
    .map(repositoryCopy);
  await npmInstall(dir, [tarball, ...links]);
  return dir;
}

/** Installs, type-checks and compiles the copied example with its own tsconfig.json and TypeScript. */
async function build(example: string): Promise<string> {
  const dir = await copyOut(example);
  await run(join(dir, "node_modules", ".bin", "tsc"), ["-p", "."], { cwd: dir });
  return dir;
}

function mockRun(
  dir: string,
  project: string,
  config: Record<string, unknown>,
  secretKeys: string[],
): Promise<MockRun> {
  return runProgramUnderMocks({ program: join(dir, "dist", "index.js"), project, config, secretKeys });
}

function expectDisks(result: MockRun, names: readonly string[]): void {
  expect(result.error).toBeUndefined();
  const disks = result.resources.filter((r) => r.type === DISK_TYPE);
  expect(disks.map((d) => d.name).sort()).toEqual([...names].sort());
  for (const disk of disks) {
    // The serialized provider loads the lifecycle of the installed package, by name.
    expect(disk.inputs["__provider"]).toEqual(
      expect.stringContaining(`require("${PACKAGE_NAME}/lifecycle")`),
    );
  }
}

test.concurrent(
  "quickstart: copied out, installed from the tarball, type-checked, run under mocks",
  async () => {
    const dir = await build("quickstart");
    const result = await mockRun(
      dir,
      "xen-passthrough-quickstart",
      {
        host: "192.0.2.10",
        hostKey: HOST_KEY,
        sshPrivateKey: SSH_KEY,
        diskSerial: "S3Z1NB0K123456X",
        vmName: "nas",
      },
      ["sshPrivateKey"],
    );
    expectDisks(result, ["nas-data"]);
    expect(result.outputs["device"]).toBe("xvdb");
    // The package came from the tarball: a real directory holding no TypeScript sources outside src/.
    expect(await readdir(join(dir, "node_modules", PACKAGE_NAME))).toEqual(
      expect.arrayContaining(["dist", "bin", "package.json", "README.md", "LICENSE"]),
    );
  },
);

test.concurrent(
  "homelab: copied out, with @pulumi/command, runs the guest commands under mocks",
  async () => {
    const dir = await build("homelab");
    const result = await mockRun(
      dir,
      "xen-passthrough-homelab",
      {
        host: "192.0.2.10",
        hostKey: HOST_KEY,
        sshPrivateKey: SSH_KEY,
        vmName: "media",
        diskSerials: ["WD-WCC4N0000001", "S3Z1NB0K123456X"],
        guestHost: "media.example.net",
        guestHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheGuest",
        sambaPassword: "samba-password",
      },
      ["sshPrivateKey", "sambaPassword"],
    );
    expectDisks(result, ["disk-WD-WCC4N0000001", "disk-S3Z1NB0K123456X"]);
    expect(result.resources.map((r) => r.name)).toEqual(
      expect.arrayContaining(["mount-disk1", "mount-disk2", "samba-shares"]),
    );
  },
);

test.concurrent("ci-rebuild: copied out, runs its sample inventory under mocks", async () => {
  const dir = await build("ci-rebuild");
  const project = "xen-passthrough-ci-rebuild";
  const sample = readStackConfig(join(dir, "Pulumi.example.yaml"), project);
  const result = await mockRun(dir, project, { hosts: sample["hosts"], sshPrivateKey: SSH_KEY }, [
    "sshPrivateKey",
  ]);
  expectDisks(result, [
    "xen1-WD-WCC4N0REPLACE1",
    "xen1-WD-WCC4N0REPLACE2",
    "xen1-0x5000c500a1b2c3d4",
    "xen2-ata-ST4000VN008-2DR166_ZDHREPLACE",
  ]);
});
