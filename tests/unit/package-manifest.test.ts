// What provider/package.json promises a user who installs it from the registry: @pulumi/pulumi as
// a peer (one SDK copy per program) whose lowest version is the one `npm run
// test:pulumi-versions` installs and tests, entry points that exist, a build before every pack,
// a command named after the package, and examples asking for the same versions.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { versionsToTest } from "../support/pulumi-versions";
import { PACKAGE_NAME, REPO_ROOT } from "../support/package-install";

type Manifest = {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
  engines: { node: string };
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
};

const read = <T>(path: string): T => JSON.parse(readFileSync(join(REPO_ROOT, path), "utf8")) as T;
const manifest = read<Manifest>("provider/package.json");
const sdkRange = manifest.peerDependencies["@pulumi/pulumi"] ?? "";

test("@pulumi/pulumi is a peer, never a dependency; its lowest version is the one tested", () => {
  expect(manifest.dependencies["@pulumi/pulumi"]).toBeUndefined();
  expect(sdkRange).toMatch(/^\^3\.\d+\.\d+$/);
  const [lowest, latest] = versionsToTest(sdkRange);
  expect(sdkRange).toBe(`^${lowest}`);
  expect(latest).toBe("latest");
  // The copy the repository builds and tests with is inside the range.
  const installed = read<{ version: string }>("node_modules/@pulumi/pulumi/package.json").version;
  const [major, minor] = installed.split(".").map(Number);
  expect(major).toBe(3);
  expect(minor).toBeGreaterThanOrEqual(Number(lowest.split(".")[1]));
});

test("the exports map lists exactly what users import, and its entries exist with their types", () => {
  // "./lifecycle" and "./lifecycle/usb" are what the serialized providers load by name; internals are not published
  // (the tests reach them through the repository's own "#provider/*" import map).
  expect(Object.keys(manifest.exports).sort()).toEqual([
    ".",
    "./cli",
    "./lifecycle",
    "./lifecycle/usb",
    "./package.json",
  ]);
  for (const target of Object.values(manifest.exports)) {
    const paths = typeof target === "string" ? [target] : [target.types, target.default];
    for (const path of paths) expect(existsSync(join(REPO_ROOT, "provider", path))).toBe(true);
  }
});

test("publishing builds first, ships maps with their sources and names the tested Node", () => {
  expect(manifest.scripts["prepack"]).toBe("tsc -b && node bin/prune-dist.js");
  expect(manifest.files).toEqual(expect.arrayContaining(["dist/**/*.js.map", "src/**/*.ts"]));
  expect(manifest.engines.node).toBe(read<{ engines: { node: string } }>("package.json").engines.node);
});

test("the command is named after the package: `npx pulumi-xen-passthrough` cannot fetch another", () => {
  expect(manifest.bin).toEqual({ [PACKAGE_NAME]: "bin/xen-passthrough.js" });
  for (const readme of ["README.md", "provider/README.md"]) {
    const text = readFileSync(join(REPO_ROOT, readme), "utf8");
    expect(text).toContain(`npx ${PACKAGE_NAME} disks`);
    expect(text).not.toMatch(/npx xen-passthrough\b/);
  }
});

test.each(["quickstart", "homelab", "ci-rebuild"])(
  "examples/%s asks for this package and the same SDK range",
  (example) => {
    const own = read<{ dependencies: Record<string, string> }>(`examples/${example}/package.json`);
    expect(own.dependencies[PACKAGE_NAME]).toBe(`^${manifest.version}`);
    expect(own.dependencies["@pulumi/pulumi"]).toBe(sdkRange);
  },
);
