// The real path `pulumi up` takes: the SDK serializes PassthroughDisk's provider into
// `__provider`, and the real dynamic-provider host loads it and answers gRPC calls.
import { HostCallError, startDynamicHost, type DynamicHost } from "xen-sandbox";
import {
  asEngineSendsThem,
  serializePassthroughDisk,
  type SerializedResource,
} from "../support/serialize.js";

const SECRETS = {
  password: "ssh-password-4f1c9a",
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nkey-material-77d2e1\n-----END OPENSSH PRIVATE KEY-----\n",
  xapiPassword: "xapi-password-2b8e60",
};

// Port 1 on loopback refuses at once: create fails fast whether or not the lifecycle is real yet.
const args = {
  connection: {
    host: "127.0.0.1",
    port: 1,
    password: SECRETS.password,
    privateKey: SECRETS.privateKey,
    dialErrorLimit: 1,
    perDialTimeout: 2,
  },
  xapi: { url: "https://127.0.0.1:1", password: SECRETS.xapiPassword, tlsFingerprint: "ab".repeat(32) },
  disk: { serial: "S3Z1NB0K123456X" },
  vm: { nameLabel: "nas" },
};

let serialized: SerializedResource;
let host: DynamicHost;

beforeAll(async () => {
  serialized = await serializePassthroughDisk(args);
  host = await startDynamicHost();
  // The engine always configures a provider first (with the stack's config).
  await host.configure({});
});

afterAll(async () => {
  await host?.stop();
});

describe("the serialized provider", () => {
  test("is small, holds no secret and no captured implementation", () => {
    const text = serialized.provider;
    console.log(`serialized __provider: ${text.length} characters`);
    expect(text.length).toBeLessThan(4096);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    expect(text).not.toContain("key-material");
    // It loads the implementation by package name instead of carrying it.
    expect(text).toContain('require("pulumi-xen-passthrough/lifecycle")');
    for (const captured of [
      "process.env",
      "zod",
      "ssh2",
      "xen-api",
      "renderRule",
      "planDiff",
      "checkInputs",
    ]) {
      expect(text).not.toContain(captured);
    }
  });

  test("the resource registers its credentials as secrets and declares no outputs as inputs", () => {
    expect(serialized.type).toBe("pulumi-nodejs:dynamic/xen-passthrough:PassthroughDisk");
    expect(JSON.stringify(serialized.inputs["connection"])).toContain("4dabf18193072939515e22adb298388d");
    expect(JSON.stringify(serialized.inputs["xapi"])).toContain("4dabf18193072939515e22adb298388d");
    expect(Object.keys(serialized.inputs).sort()).toEqual([
      "__provider",
      "connection",
      "disk",
      "owner",
      "vm",
      "xapi",
    ]);
  });
});

describe("the real dynamic-provider host runs it over gRPC", () => {
  const engineInputs = () => asEngineSendsThem(serialized.inputs);

  test("Check validates and defaults, keeping __provider", async () => {
    const { inputs, failures } = await host.check({}, engineInputs());
    expect(failures).toEqual([]);
    expect(inputs).toMatchObject({
      mode: "RW",
      userdevice: "autodetect",
      attach: true,
      __provider: serialized.provider,
    });
    expect(inputs["connection"]).toMatchObject({ user: "root", insecureSkipHostKeyCheck: false });
  });

  test("Check reports injection attempts per property", async () => {
    const { failures } = await host.check(
      {},
      { ...engineInputs(), disk: { kernelName: 'sdb"; rm -rf /' }, vm: { nameLabel: "$(reboot)" } },
    );
    expect(failures.map((f) => f.property)).toEqual(["disk.kernelName", "vm.nameLabel"]);
  });

  test("Check tolerates preview unknowns", async () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const { failures } = await host.check({}, { ...engineInputs(), vm: unknown, disk: { serial: unknown } });
    expect(failures).toEqual([]);
  });

  test("Diff: none, update or replace, decided without the host", async () => {
    const { inputs: checked } = await host.check({}, engineInputs());
    const state = { ...checked, vmUuid: "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", kernelName: "sdb" };
    expect(await host.diff("id", state, checked)).toEqual({
      changes: "none",
      replaces: [],
      deleteBeforeReplace: true,
    });
    expect(await host.diff("id", state, { ...checked, mode: "RO" })).toEqual({
      changes: "some",
      replaces: [],
      deleteBeforeReplace: true,
    });
    expect(await host.diff("id", state, { ...checked, disk: { serial: "OTHER" } })).toEqual({
      changes: "some",
      replaces: ["disk"],
      deleteBeforeReplace: true,
    });
  });

  test("Create fails cleanly (no reachable host here) and leaks no secret", async () => {
    const { inputs: checked } = await host.check({}, engineInputs());
    const failure = await host.create(checked).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(HostCallError);
    const message = (failure as HostCallError).details;
    console.log(`create failed as expected: ${message}`);
    expect(message.length).toBeGreaterThan(0);
    for (const secret of Object.values(SECRETS)) expect(message).not.toContain(secret);
  });
});

describe("the harness", () => {
  test("decodes a partial create (rejected with id and properties) as the engine does", async () => {
    // A hand-written provider module, loaded by the host like any serialized one.
    const provider = `exports.handler = () => ({
      create: async () => { throw Object.assign(new Error("VBD.plug failed"), { id: "disk-1", properties: { vbdUuid: "v1" }, reasons: ["VBD.plug failed"] }); },
    });`;
    const failure = await host.create({ __provider: provider }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({
      method: "create",
      details: "VBD.plug failed",
      initFailure: { id: "disk-1", properties: { vbdUuid: "v1" }, reasons: ["VBD.plug failed"] },
    });
  });
});
