// A preview (configure, check, diff) loads none of the host-side libraries: the modules that talk
// to the host load on first use, so a preview stays offline and its process starts fast.
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
 * xen-api is ESM (outside require.cache), imported only by adapters/xapi.js: that stands for it.
 */
function hostLibrariesLoadedBy(steps: string): string[] {
  const script = `
    const l = require(${JSON.stringify(LIFECYCLE)});
    const props = ${JSON.stringify(props)};
    process.on("exit", () => {
      const loaded = Object.keys(require.cache)
        .map((k) => /node_modules\\/(ssh2)\\/|adapters\\/(xapi)\\.js$/.exec(k))
        .map((m) => m && (m[1] ?? "xen-api"))
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
  it("configure, check and diff load neither ssh2 nor xen-api", () => {
    const loaded = hostLibrariesLoadedBy(`
      await l.configure({ config: { get: () => undefined } });
      const { inputs, failures } = await l.check({}, props);
      if (failures) throw new Error(JSON.stringify(failures));
      await l.diff("id", inputs, inputs);`);
    expect(loaded).toEqual([]);
  });

  it("the probe sees them once a host operation loads its parts (the check above can fail)", () => {
    // Valid inputs (invalid ones are refused before anything loads); nothing listens on port 1.
    const loaded = hostLibrariesLoadedBy(`
      const unreachable = { ...props, connection: { ...props.connection, host: "127.0.0.1", port: 1, dialErrorLimit: 1 } };
      await l.create(unreachable).catch(() => undefined);`);
    expect(loaded).toEqual(["ssh2", "xen-api"]);
  });
});
