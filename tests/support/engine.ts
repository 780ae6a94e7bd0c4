// What `pulumi up`, `pulumi refresh` and `pulumi destroy` do with one PassthroughDisk, step by
// step over the real dynamic-provider host: Check, then Diff against the stored state, then
// Create / Update / Delete+Create, and Read for a refresh. State is kept here as the engine
// keeps it in the checkpoint: the outputs, `__provider` included.
import { join } from "node:path";
import type { DynamicHost } from "./dynamic-host";
import { startDynamicHost } from "./dynamic-host";
import { serializePassthroughDisk } from "./serialize";

type Props = Record<string, unknown>;

export interface Stored {
  readonly id: string;
  readonly state: Props;
}

/** The provider host of one test file, and the real `__provider` of a PassthroughDisk program. */
export interface Engine {
  readonly host: DynamicHost;
  /** Engine-side inputs for these arguments: what the program would send, `__provider` included. */
  inputs(args: Props): Props;
  /** `pulumi up` for a new resource: Check then Create. */
  create(args: Props): Promise<Stored>;
  /** `pulumi preview` of an existing resource: Check then Diff, nothing else. */
  preview(stored: Stored, args: Props): Promise<Awaited<ReturnType<DynamicHost["diff"]>>>;
  /** `pulumi up` of an existing resource: Check, Diff, and Update or Delete+Create when needed. */
  up(stored: Stored, args: Props): Promise<Stored>;
  /** `pulumi refresh`: Read; undefined when the provider says the resource is gone. */
  refresh(stored: Stored): Promise<Stored | undefined>;
  destroy(stored: Stored): Promise<void>;
}

const REPO_ROOT = join(__dirname, "..", "..", "..");

/** Starts the host before the file's tests (with the repository as the program directory). */
export function useEngine(): () => Engine {
  let engine: Engine | undefined;
  beforeAll(async () => {
    const { provider } = await serializePassthroughDisk(PLACEHOLDER_ARGS);
    const host = await startDynamicHost({ cwd: REPO_ROOT });
    await host.configure({}); // the engine always configures the provider first
    engine = new HostEngine(host, provider);
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

class HostEngine implements Engine {
  constructor(
    readonly host: DynamicHost,
    private readonly provider: string,
  ) {}

  inputs(args: Props): Props {
    return { ...args, __provider: this.provider };
  }

  private async checked(olds: Props, args: Props): Promise<Props> {
    const { inputs, failures } = await this.host.check(olds, this.inputs(args));
    if (failures.length > 0) {
      throw new Error(`check failed: ${failures.map((f) => `${f.property} ${f.reason}`).join("; ")}`);
    }
    return inputs;
  }

  async create(args: Props): Promise<Stored> {
    const { id, properties } = await this.host.create(await this.checked({}, args));
    return { id, state: properties };
  }

  async preview(stored: Stored, args: Props) {
    return this.host.diff(stored.id, stored.state, await this.checked(stored.state, args));
  }

  async up(stored: Stored, args: Props): Promise<Stored> {
    const news = await this.checked(stored.state, args);
    const diff = await this.host.diff(stored.id, stored.state, news);
    if (diff.changes !== "some") return stored;
    if (diff.replaces.length > 0) {
      await this.host.delete(stored.id, stored.state);
      const { id, properties } = await this.host.create(news);
      return { id, state: properties };
    }
    const { properties } = await this.host.update(stored.id, stored.state, news);
    return { id: stored.id, state: properties };
  }

  async refresh(stored: Stored): Promise<Stored | undefined> {
    const { id, properties } = await this.host.read(stored.id, stored.state);
    return id === "" ? undefined : { id, state: properties };
  }

  async destroy(stored: Stored): Promise<void> {
    await this.host.delete(stored.id, stored.state);
  }
}
