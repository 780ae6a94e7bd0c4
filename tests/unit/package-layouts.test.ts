// Where the dynamic-provider host finds the lifecycle: it loads pulumi-xen-passthrough by name
// from the program's directory. The tarball installed the npm way and as pnpm lays it out (a
// direct dependency: a link into node_modules/.pnpm) works; where it cannot work (pnpm without
// the direct dependency, Yarn Plug'n'Play, a bundled program, a nested copy of another version)
// the user gets one error naming the cause and the fix.
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { HostCallError, serializeResource, startDynamicHost, type DynamicHost } from "xen-sandbox";
import { asEngineSendsThem } from "../support/serialize.js";
import {
  installTarball,
  PACKAGE_NAME,
  packProvider,
  providerRequirements,
  REPO_ROOT,
} from "../support/package-install";

const ARGS = {
  connection: { host: "127.0.0.1", port: 1, privateKey: "placeholder", hostKey: "ssh-ed25519 AAAA" },
  disk: { serial: "S3Z1NB0K123456X" },
  vm: { nameLabel: "nas" },
};

let work: string;
let npmProgram: string;
let inputs: Record<string, unknown>;
const hosts: DynamicHost[] = [];

beforeAll(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), "xen-passthrough-layouts-")));
  npmProgram = join(work, "npm");
  await mkdir(npmProgram);
  const pack = await packProvider(work);
  await installTarball(npmProgram, join(work, pack.filename));
  inputs = asEngineSendsThem(
    (await serializeResource(ARGS, { packageName: PACKAGE_NAME, cwd: npmProgram })).inputs,
  );
}, 90_000);

afterAll(async () => {
  await Promise.all(hosts.map((host) => host.stop()));
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** The host as `pulumi up` starts it for a program in `dir`, configured. */
async function hostIn(dir: string): Promise<DynamicHost> {
  const host = await startDynamicHost({ cwd: dir });
  hosts.push(host);
  await host.configure({});
  return host;
}

/** The error the host answers Check with (fails when Check succeeds). */
async function checkFailure(dir: string, news = inputs): Promise<string> {
  const error: unknown = await (await hostIn(dir)).check({}, news).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof HostCallError)) throw new Error(`Check did not fail: ${String(error)}`);
  return error.details;
}

/** A program directory laid out as pnpm installs the tarball; `direct`: listed in its package.json. */
async function pnpmProgram(name: string, direct: boolean): Promise<string> {
  const program = join(work, name);
  const store = join(program, "node_modules", ".pnpm", `${PACKAGE_NAME}@0.1.0`, "node_modules");
  await mkdir(store, { recursive: true });
  await cp(join(npmProgram, "node_modules", PACKAGE_NAME), join(store, PACKAGE_NAME), { recursive: true });
  // pnpm puts a package's own dependencies (and peers) next to it, as links.
  for (const dependency of await providerRequirements()) {
    await mkdir(dirname(join(store, dependency)), { recursive: true });
    await symlink(join(REPO_ROOT, "node_modules", dependency), join(store, dependency));
  }
  if (direct) await symlink(join(store, PACKAGE_NAME), join(program, "node_modules", PACKAGE_NAME));
  return program;
}

test("npm layout: the host loads the program's copy and checks the resource", async () => {
  const { failures, inputs: checked } = await (await hostIn(npmProgram)).check({}, inputs);
  expect(failures).toEqual([]);
  expect(checked["vm"]).toEqual({ nameLabel: "nas" });
});

test("pnpm layout with the package as a direct dependency: the host loads it through the link", async () => {
  const program = await pnpmProgram("pnpm-direct", true);
  const { failures } = await (await hostIn(program)).check({}, inputs);
  expect(failures).toEqual([]);
});

test.each([
  [
    "pnpm without the direct dependency",
    (dir: string) => pnpmProgram(dir, false),
    /pnpm links only the program's direct dependencies \(add it to its package\.json\)/,
  ],
  [
    "Yarn Plug'n'Play",
    async (dir: string) => {
      await mkdir(join(work, dir));
      await writeFile(join(work, dir, ".pnp.cjs"), "// Yarn PnP\n");
      return join(work, dir);
    },
    /Yarn Plug'n'Play has no node_modules \(set nodeLinker: node-modules\)/,
  ],
  [
    "an older copy without the lifecycle entry",
    async (dir: string) => {
      const copy = join(work, dir, "node_modules", PACKAGE_NAME);
      await mkdir(copy, { recursive: true });
      await writeFile(join(copy, "package.json"), JSON.stringify({ name: PACKAGE_NAME, version: "0.0.9" }));
      return join(work, dir);
    },
    /the copy installed there is another version, without this entry point/,
  ],
  [
    "a bundled program",
    async (dir: string) => {
      await mkdir(join(work, dir));
      return join(work, dir);
    },
    /it is not installed there \(a bundled program must keep it external\)/,
  ],
])("%s: one error with the cause and the fix", async (_case, layout, cause) => {
  const program = await layout(_case.replace(/\W+/g, "-"));
  const details = await checkFailure(program);
  expect(details).toContain(`${PACKAGE_NAME} cannot be loaded from ${program}: `);
  expect(details).toMatch(cause);
  expect(details).toContain(`Fix: \`npm install ${PACKAGE_NAME}@0.1.0\` in the program's directory`);
  expect(details).not.toMatch(/\n\s+at /); // no stack trace
});

describe("a nested copy of another version", () => {
  let nested: Record<string, unknown>;

  beforeAll(async () => {
    // A library of the program brings its own copy, 0.2.0; the program's own copy is 0.1.0.
    const copy = join(npmProgram, "node_modules", "homelab-lib", "node_modules", PACKAGE_NAME);
    await cp(join(npmProgram, "node_modules", PACKAGE_NAME), copy, { recursive: true });
    const manifest = JSON.parse(await readFile(join(copy, "package.json"), "utf8")) as Record<
      string,
      unknown
    >;
    await writeFile(join(copy, "package.json"), JSON.stringify({ ...manifest, version: "0.2.0" }));
    nested = asEngineSendsThem(
      (await serializeResource(ARGS, { packageName: copy, cwd: npmProgram })).inputs,
    );
  }, 60_000);

  test("Check of a resource it declared reports both versions and the fix", async () => {
    const details = await checkFailure(npmProgram, nested);
    expect(details).toContain(
      `${PACKAGE_NAME}: the program declared this resource with 0.2.0, but ${npmProgram} holds 0.1.0: ` +
        "the program uses another copy, nested in node_modules.",
    );
    expect(details).toContain("then `npm dedupe`");
  });

  test("Delete of a resource stored by another version still runs (state from before an upgrade)", async () => {
    const host = await hostIn(npmProgram);
    const error: unknown = await host.delete("some-id", { ...nested, hostUuid: "h" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // It reaches the lifecycle, which fails on its own terms, not on the version.
    expect(String(error instanceof HostCallError ? error.details : error)).not.toContain(
      "declared this resource",
    );
  });
});
