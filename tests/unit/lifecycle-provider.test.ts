// The provider's methods as the dynamic-provider host calls them (lifecycle/index.ts), end to
// end without root: a real SSH server (ssh2's) whose commands run on the fake dom0, XAPI through
// that connection to the simulator's Unix socket, and the stack config of `configure`.
import type { dynamic } from "@pulumi/pulumi";
import { closeAll } from "#provider/adapters/host-pool.js";
import { PartialResourceError } from "#provider/core/errors.js";
import * as provider from "#provider/lifecycle/index.js";
import { configure, check, delete as remove, diff, read } from "#provider/lifecycle/index.js";
import { useInProcessHost } from "./in-process-host-fixture";

const { dom0, sim, peer, connection, printed } = useInProcessHost({
  vms: [{ nameLabel: "media-server", powerState: "Running" }],
});
afterEach(async () => {
  await configure(stackConfig({}));
  printed.length = 0;
});

/** Inputs as the engine passes them after check. */
async function checked(
  serial: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const news = {
    connection: connection(),
    disk: { serial },
    vm: { nameLabel: "media-server" },
    ...extra,
  };
  const result = await check({}, news);
  expect(result.failures).toBeUndefined();
  return result.inputs as Record<string, unknown>;
}

function stackConfig(values: Record<string, string>): dynamic.ConfigureRequest {
  const config = new Map(Object.entries(values).map(([key, value]) => [`xen-passthrough:${key}`, value]));
  return { config: { get: (key: string) => config.get(key) } } as unknown as dynamic.ConfigureRequest;
}

/** The engine's outputs are `any`: typed here once. */
async function create(
  inputs: Record<string, unknown>,
): Promise<{ id: string; outs: Record<string, unknown> }> {
  const { id, outs } = (await provider.create(inputs)) as { id: string; outs: Record<string, unknown> };
  return { id, outs };
}

async function update(
  id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<{ outs: Record<string, unknown> }> {
  return (await provider.update(id, olds, news)) as { outs: Record<string, unknown> };
}

function vbdsOf(vbdUuid: unknown) {
  return sim()
    .control.state()
    .vbds.filter((vbd) => vbd.uuid === vbdUuid);
}

test("check defaults the inputs and names each bad property with what is allowed", async () => {
  const good = await checked("PROV-0");
  expect(good).toMatchObject({
    mode: "RW",
    userdevice: "autodetect",
    attach: true,
    symlinkTimeoutSeconds: 60,
  });
  const bad = await check({}, { ...good, mode: "rw", symlinkTimeoutSeconds: 0 });
  expect(bad.failures).toEqual(
    expect.arrayContaining([
      { property: "mode", reason: 'must be "RW" or "RO"' },
      { property: "symlinkTimeoutSeconds", reason: "must be a whole number from 1 to 600" },
    ]),
  );
});

test("diff: no change for the same inputs, a replace for another disk, an update for another mode", async () => {
  const olds = await checked("PROV-0");
  expect(await diff("id", olds, olds)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
  const otherDisk = await diff("id", olds, await checked("PROV-9"));
  expect(otherDisk).toMatchObject({ changes: true, replaces: ["disk"] });
  const otherMode = await diff("id", olds, await checked("PROV-0", { mode: "RO" }));
  expect(otherMode).toMatchObject({ changes: true, replaces: [] });
});

test("a refresh in a fresh process logs in and reads, nothing else: it never makes the xen-api client", async () => {
  dom0.addDisk("sdq", "PROV-R", 96);
  const { id, outs } = await create(await checked("PROV-R"));
  // As in a new provider process: no connection or session left from the create.
  await closeAll();
  sim().control.trace.reset();
  expect(await read(id, outs)).toEqual({ id, props: outs });
  const methods = sim()
    .control.trace.get()
    .calls.map((call) => call.method);
  expect(methods).toContain("session.login_with_password");
  // xen-api's connect would read the pool record and the method list (system.listMethods).
  expect(methods.filter((m) => m !== "session.login_with_password" && !/^[A-Za-z_]+\.get_/.test(m))).toEqual(
    [],
  );
  await remove(id, outs);
});

test("create, read, update and delete over SSH: the disk reaches the VM and leaves it again", async () => {
  dom0.addDisk("sdc", "PROV-1", 32);
  const inputs = await checked("PROV-1");

  const { id, outs } = await create(inputs);
  expect(id).not.toBe("");
  expect(outs).toMatchObject({ kernelName: "sdc", currentlyAttached: true, drift: [], mode: "RW" });
  expect(vbdsOf(outs["vbdUuid"])).toEqual([expect.objectContaining({ currentlyAttached: true })]);
  expect(dom0.rules().get(outs["rulePath"] as string)).toBe(outs["ruleText"]);
  expect(printed.some((line) => line.startsWith("[xen-passthrough serial=PROV-1] "))).toBe(true);

  // Refresh sees what create left: the same state.
  const refreshed = await read(id, outs);
  expect(refreshed).toEqual({ id, props: outs });

  // An update that makes the disk bootable: the same VBD, and XAPI's record follows (the outputs
  // describe a look taken after the apply).
  expect(outs["observed"]).toMatchObject({ vbdBootable: false });
  const { outs: updated } = await update(id, outs, await checked("PROV-1", { bootable: true }));
  expect(updated).toMatchObject({ bootable: true, vbdUuid: outs["vbdUuid"], drift: [] });
  expect(updated["observed"]).toMatchObject({ vbdBootable: true });

  await remove(id, updated);
  expect(vbdsOf(outs["vbdUuid"])).toEqual([]);
  expect(dom0.rules().has(outs["rulePath"] as string)).toBe(false);
  // Nothing of ours is left: refresh says the resource is gone.
  expect(await read(id, updated)).toEqual({ id: "" });
});

test("a create that fails after its VBD exists keeps partial state, with __provider so it can be deleted", async () => {
  dom0.addDisk("sde", "PROV-3", 64);
  sim().control.faults.add({
    method: "VBD.plug",
    action: { error: { code: "INTERNAL_ERROR", params: [] } },
    count: 1,
  });
  const inputs = { ...(await checked("PROV-3")), __provider: "serialized provider" };
  const failure = await provider.create(inputs).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(PartialResourceError);
  const partial = (failure as PartialResourceError).properties;
  expect(partial).toMatchObject({
    __provider: "serialized provider",
    kernelName: "sde",
    currentlyAttached: false,
  });
  expect(vbdsOf(partial["vbdUuid"])).toHaveLength(1);

  // The next operation starts from that state: delete removes what the create left.
  await remove((failure as PartialResourceError).id, partial);
  expect(vbdsOf(partial["vbdUuid"])).toEqual([]);
});

test("bad stored inputs fail before anything is dialled", async () => {
  const before = peer().connections;
  await expect(create({ disk: { serial: "PROV-1" } })).rejects.toThrow(/connection/);
  expect(peer().connections).toBe(before);
});

test("configure: a stack xapiUrl is checked with its config key, used by resources without `xapi`, and dropped again", async () => {
  await expect(configure(stackConfig({ xapiUrl: "ftp://xen1", xapiPassword: "pw" }))).rejects.toThrow(
    /xen-passthrough:url/,
  );

  // Nothing listens at port 1: create reaches for the stack's XAPI and names it in its failure.
  await configure(stackConfig({ xapiUrl: "https://127.0.0.1:1", xapiPassword: "pw", xapiUsername: "root" }));
  dom0.addDisk("sdd", "PROV-2", 48);
  await expect(create(await checked("PROV-2"))).rejects.toThrow(/127\.0\.0\.1:1/);

  // Without the stack setting, XAPI goes through the SSH connection again.
  await configure(stackConfig({}));
  const { id, outs } = await create(await checked("PROV-2"));
  expect(outs).toMatchObject({ kernelName: "sdd", currentlyAttached: true });
  await remove(id, outs);
});
