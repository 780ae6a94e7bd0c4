// `npm run test:pulumi-versions`: the package against the oldest @pulumi/pulumi its peer range
// allows and against the registry's latest, each installed from the npm registry into a fresh
// directory with the packed tarball. For each: the quickstart type-checks against that SDK's
// types, runs under that SDK's mocks, and that SDK's own dynamic-provider host loads the
// serialized provider and runs Configure, Check and Create (which reaches the lifecycle and
// fails on the unreachable host, as it must). Needs the network (the npm registry); not part of
// `npm test`, which checks the range itself (tests/unit/package-manifest.test.ts).
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { HostCallError, runProgramUnderMocks, serializeResource, startDynamicHost } from "xen-sandbox";
import { asEngineSendsThem } from "xen-sandbox";
import { npmEnv, PACKAGE_NAME, packProvider, REPO_ROOT } from "./package-install";

const run = promisify(execFile);

/** The SDK versions to test: the lowest the peer range admits ("^3.139.0" -> "3.139.0") and "latest". */
export function versionsToTest(peerRange: string): [string, string] {
  const lowest = /^\^(\d+\.\d+\.\d+)$/.exec(peerRange)?.[1];
  if (lowest === undefined) throw new Error(`peer range ${peerRange} is not of the form ^x.y.z`);
  return [lowest, "latest"];
}

async function installedVersion(name: string): Promise<string> {
  const manifest = JSON.parse(
    await readFile(join(REPO_ROOT, "node_modules", name, "package.json"), "utf8"),
  ) as {
    version: string;
  };
  return manifest.version;
}

async function testVersion(work: string, tarball: string, sdk: string): Promise<string> {
  const dir = join(work, `sdk-${sdk}`);
  await mkdir(dir);
  await cp(join(REPO_ROOT, "examples", "quickstart"), dir, {
    recursive: true,
    filter: (path) => !path.includes("/dist"),
  });
  const started = Date.now();
  const specs = [
    tarball,
    `@pulumi/pulumi@${sdk}`,
    `typescript@${await installedVersion("typescript")}`,
    `@types/node@${await installedVersion("@types/node")}`,
  ];
  await run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", ...specs], {
    cwd: dir,
    env: npmEnv(true),
  });
  const installSeconds = (Date.now() - started) / 1000;
  const sdkRoot = join(dir, "node_modules", "@pulumi", "pulumi");
  const version = (JSON.parse(await readFile(join(sdkRoot, "package.json"), "utf8")) as { version: string })
    .version;
  await run(join(dir, "node_modules", ".bin", "tsc"), ["-p", "."], { cwd: dir });

  const mocked = await runProgramUnderMocks({
    program: join(dir, "dist", "index.js"),
    project: "xen-passthrough-quickstart",
    config: {
      host: "127.0.0.1",
      hostKey: "ssh-ed25519 AAAA",
      sshPrivateKey: "key",
      diskSerial: "S1",
      vmName: "nas",
    },
    secretKeys: ["sshPrivateKey"],
  });
  if (mocked.error !== undefined || mocked.resources.length !== 1) {
    throw new Error(
      `@pulumi/pulumi ${version}: the quickstart under mocks: ${mocked.error ?? "no resource"}`,
    );
  }

  const args = {
    connection: {
      host: "127.0.0.1",
      port: 1,
      privateKey: "placeholder",
      hostKey: "ssh-ed25519 AAAA",
      dialErrorLimit: 1,
    },
    disk: { serial: "S1" },
    vm: { nameLabel: "nas" },
  };
  const { inputs } = await serializeResource(args, { packageName: PACKAGE_NAME, cwd: dir });
  const host = await startDynamicHost({
    cwd: dir,
    entry: join(sdkRoot, "cmd", "dynamic-provider", "index.js"),
  });
  try {
    await host.configure({});
    const checked = await host.check({}, asEngineSendsThem(inputs));
    if (checked.failures.length > 0) throw new Error(`Check failed: ${JSON.stringify(checked.failures)}`);
    const created: unknown = await host.create(checked.inputs).then(
      () => undefined,
      (error: unknown) => error,
    );
    const details = created instanceof HostCallError ? created.details : String(created);
    if (!details.includes("failed to connect to root@127.0.0.1:1")) {
      throw new Error(`Create did not reach the lifecycle: ${details}`);
    }
  } finally {
    await host.stop();
  }
  return `@pulumi/pulumi ${version} (asked ${sdk}): type-check, mocks, host Configure/Check/Create: ok (install ${installSeconds.toFixed(1)} s)`;
}

async function main(): Promise<void> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, "provider", "package.json"), "utf8")) as {
    peerDependencies: Record<string, string>;
  };
  const range = manifest.peerDependencies["@pulumi/pulumi"] ?? "";
  const work = await mkdtemp(join(tmpdir(), "xen-passthrough-sdk-versions-"));
  try {
    const tarball = join(work, (await packProvider(work)).filename);
    for (const sdk of versionsToTest(range)) console.log(await testVersion(work, tarball, sdk));
    console.log(`peer range ${range}: both ends pass`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
