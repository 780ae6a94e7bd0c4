// What `pulumi up`, `pulumi refresh` and `pulumi destroy` do with one PassthroughDisk over the
// real dynamic-provider host: the engine itself lives in xen-sandbox (the demo uses it too);
// here is the Jest hook that gives each test file its own host.
import { join } from "node:path";
import { startEngine } from "xen-sandbox";
import type { Engine } from "xen-sandbox";
import { serializePassthroughDisk } from "./serialize";

export type { Engine, Stored, UpOperation, UpResult } from "xen-sandbox";

const REPO_ROOT = join(__dirname, "..", "..", "..");

/** Starts the host before the file's tests (with the repository as the program directory). */
export function useEngine(): () => Engine {
  return useEngineServing(() => serializePassthroughDisk(PLACEHOLDER_ARGS));
}

/** A host serving the provider `serialize` gives, started before the file's tests, stopped after them. */
export function useEngineServing(serialize: () => Promise<{ readonly provider: string }>): () => Engine {
  let engine: Engine | undefined;
  beforeAll(async () => {
    const { provider } = await serialize();
    engine = await startEngine(provider, { cwd: REPO_ROOT }); // configured with {}, as the engine always does first
  }, 60_000);
  afterAll(async () => {
    await engine?.host.stop();
  });
  return () => {
    if (engine === undefined) throw new Error("the dynamic-provider host did not start: see beforeAll");
    return engine;
  };
}

// The serialized provider does not depend on the arguments: one serialization serves the file.
const PLACEHOLDER_ARGS = {
  connection: { host: "127.0.0.1", privateKey: "placeholder", hostKey: "ssh-ed25519 AAAA" },
  disk: { serial: "PLACEHOLDER" },
  vm: { nameLabel: "placeholder" },
};
