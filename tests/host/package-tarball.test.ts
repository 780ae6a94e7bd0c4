// The package as users install it: `npm pack` holds the built code with its types, README and
// LICENSE and nothing else; installed from that tarball (offline) into a fresh program
// directory, it is what the dynamic-provider host, started in that directory as `pulumi up`
// starts it, loads by package name to create, read and delete a PassthroughDisk.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createEngine, serializeResource, startDynamicHost, type Engine } from "xen-sandbox";
import {
  installTarball,
  PACKAGE_NAME,
  packProvider,
  REPO_ROOT,
  type PackResult,
} from "../support/package-install";
import { useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 1 });

let work: string;
let program: string;
let installed: string;
let pack: PackResult;

beforeAll(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), "xen-passthrough-package-")));
  program = join(work, "program");
  installed = join(program, "node_modules", PACKAGE_NAME);
  await mkdir(program);
  pack = await packProvider(work);
  await installTarball(program, join(work, pack.filename));
}, 60_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

test("the tarball holds the built code with its types and source maps, their sources, the CLI, README and LICENSE, and nothing else", () => {
  const paths = pack.files.map((file) => file.path).sort();
  expect(paths).toEqual(
    expect.arrayContaining([
      "LICENSE",
      "README.md",
      "package.json",
      "bin/xen-passthrough.js",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/serialized-provider.js",
      "dist/lifecycle/index.js",
      "dist/cli/main.js",
      "src/index.ts",
    ]),
  );
  const unexpected = paths.filter(
    (path) =>
      !["LICENSE", "README.md", "package.json", "bin/xen-passthrough.js"].includes(path) &&
      !/^dist\/[a-z0-9/-]+\.(?:js|js\.map|d\.ts)$/.test(path) &&
      !/^src\/[a-z0-9/-]+\.ts$/.test(path),
  );
  expect(unexpected).toEqual([]); // no tsbuildinfo, tests, build scripts or sandbox code
  const withoutTypes = paths
    .filter((path) => path.startsWith("dist/") && path.endsWith(".js"))
    .filter((path) => !paths.includes(path.replace(/\.js$/, ".d.ts")));
  expect(withoutTypes).toEqual([]);
  // Every output has its source: nothing stale from a renamed module, every map resolvable.
  const orphans = paths
    .filter((path) => path.startsWith("dist/"))
    .map((path) => path.replace(/^dist\//, "src/").replace(/\.(?:js|js\.map|d\.ts)$/, ".ts"))
    .filter((source) => !paths.includes(source));
  expect(orphans).toEqual([]);
  expect(readFileSync(join(REPO_ROOT, "provider", "LICENSE"), "utf8")).toMatch(
    /Apache License\s+Version 2\.0/,
  );
});

test("npm installed a real copy from the tarball, found by package name from the program", async () => {
  expect((await lstat(installed)).isDirectory()).toBe(true); // not a link to provider/
  expect(require.resolve(PACKAGE_NAME, { paths: [program] })).toBe(join(installed, "dist", "index.js"));
  const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as { version: string };
  const source = JSON.parse(await readFile(join(REPO_ROOT, "provider", "package.json"), "utf8")) as {
    version: string;
  };
  expect(manifest.version).toBe(source.version);
  // The command is named after the package, so `npx pulumi-xen-passthrough` runs this one.
  const help = await promisify(execFile)(join(program, "node_modules", ".bin", PACKAGE_NAME), ["--help"]);
  expect(help.stdout).toMatch(/^Usage: xen-passthrough disks/);
});

describe("through the dynamic-provider host started in the program directory", () => {
  let engine: Engine;
  let provider: string;

  beforeAll(async () => {
    ({ provider } = await serializeResource(PLACEHOLDER_ARGS, { packageName: PACKAGE_NAME, cwd: program }));
    // NODE_DEBUG=module makes Node log the file behind every require: the proof of what it loaded.
    const host = await startDynamicHost({ cwd: program, env: { ...process.env, NODE_DEBUG: "module" } });
    engine = createEngine(host, provider);
    await host.configure({});
  }, 60_000);

  afterAll(async () => {
    await engine?.host.stop();
  });

  test("the serialized provider names the package, not a path into the repository", () => {
    expect(provider).toContain(`require("${PACKAGE_NAME}/lifecycle")`);
    expect(provider).not.toContain(REPO_ROOT);
  });

  test("create, read and delete a PassthroughDisk; the implementation comes from the program's node_modules", async () => {
    const { ssh } = sandbox();
    const disk = sandbox().disks.find((d) => !d.inUse);
    if (disk === undefined) throw new Error("the sandbox has no free disk");
    const created = await engine.create({
      connection: {
        host: ssh.host,
        port: ssh.port,
        privateKey: readFileSync(ssh.privateKeyPath, "utf8"),
        hostKey: ssh.hostKey,
      },
      disk: { serial: disk.serial },
      vm: { nameLabel: "media-server" },
    });
    expect(created.state).toMatchObject({ kernelName: disk.kernelName, currentlyAttached: true, drift: [] });

    const read = await engine.refresh(created);
    expect(read?.id).toBe(created.id);
    expect(read?.state["drift"]).toEqual([]);

    await engine.destroy(read ?? created);
    const vbds = sandbox().simulator.control.state().vbds;
    expect(vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] === created.id)).toEqual([]);

    const loaded = engine.host.output();
    expect(loaded).toContain(`load "${join(installed, "dist", "lifecycle", "index.js")}"`);
    expect(loaded).not.toContain(`load "${join(REPO_ROOT, "provider")}`);
  });
});

const PLACEHOLDER_ARGS = {
  connection: { host: "127.0.0.1", privateKey: "placeholder", hostKey: "ssh-ed25519 AAAA" },
  disk: { serial: "PLACEHOLDER" },
  vm: { nameLabel: "placeholder" },
};
