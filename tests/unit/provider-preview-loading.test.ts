// A preview (configure, check, diff) loads none of the host-side libraries: the modules that talk
// to the host load on first use, so a preview stays offline and its process starts fast. Nor do
// the schemas load zod's locales (core/schema.ts uses zod/v3).
import { execFileSync } from "node:child_process";

const LIFECYCLE = require.resolve("#provider/lifecycle/index.js");

const props = {
  connection: {
    host: "xen1.lan",
    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
  },
  disk: { serial: "S3Z1NB0K123456X" },
  vm: { nameLabel: "nas" },
};

/**
 * Runs `steps` in a fresh node process on the lifecycle module; returns the host libraries it
 * had loaded when it exited (so imports still under way when the steps ended count too).
 * xen-api is ESM (outside require.cache); promise-toolbox, which it loads with require and nothing
 * else here does, stands for it.
 */
function hostLibrariesLoadedBy(steps: string): string[] {
  const script = `
    const l = require(${JSON.stringify(LIFECYCLE)});
    const props = ${JSON.stringify(props)};
    process.on("exit", () => {
      const loaded = Object.keys(require.cache)
        .map((k) => /node_modules\\/(ssh2)\\/|node_modules\\/(promise-toolbox)\\/|node_modules\\/zod\\/v4\\/(locales)\\//.exec(k))
        .map((m) => m && (m[1] ?? (m[2] ? "xen-api" : "zod locales")))
        .filter(Boolean);
      require("node:fs").writeSync(1, "\\n" + JSON.stringify([...new Set(loaded)].sort()));
    });
    (async () => {
      ${steps}
    })();`;
  const output = execFileSync(process.execPath, ["-e", script], { encoding: "utf8" });
  return JSON.parse(output.slice(output.lastIndexOf("\n") + 1)) as string[];
}

describe("preview loading", () => {
  it("configure, check and diff load neither ssh2 nor xen-api, nor any of zod's locale files", () => {
    const loaded = hostLibrariesLoadedBy(`
      await l.configure({ config: { get: () => undefined } });
      const { inputs, failures } = await l.check({}, props);
      if (failures) throw new Error(JSON.stringify(failures));
      await l.diff("id", inputs, inputs);`);
    expect(loaded).toEqual([]);
  });

  it("the probe sees ssh2 once a host operation dials, xen-api and zod's locales once imported (the check above can fail)", () => {
    // Valid inputs (invalid ones are refused before anything loads); nothing listens on port 1.
    const loaded = hostLibrariesLoadedBy(`
      const unreachable = { ...props, connection: { ...props.connection, host: "127.0.0.1", port: 1, dialErrorLimit: 1 } };
      await l.create(unreachable).catch(() => undefined);
      await import("xen-api");
      require("zod/v4");`);
    expect(loaded).toEqual(["ssh2", "xen-api", "zod locales"]);
  });
});
