// What `pulumi up`, `pulumi preview`, `pulumi refresh` and `pulumi destroy` do with one dynamic
// resource, step by step over the real dynamic-provider host: Check, then Diff against the stored
// state, then Create / Update / Delete+Create, and Read for a refresh. State is kept as the engine
// keeps it in the checkpoint: the outputs, `__provider` included.
import type { DiffReply, DynamicHost } from "./dynamic-host";
import { startDynamicHost } from "./dynamic-host";

type Props = Record<string, unknown>;

/** One resource as the checkpoint holds it. */
export interface Stored {
  readonly id: string;
  readonly state: Props;
}

/** What an `up` of an existing resource did: nothing, an Update, or a Delete+Create. */
export type UpOperation = "same" | "update" | "replace";

export interface UpResult {
  readonly operation: UpOperation;
  readonly diff: DiffReply;
  readonly stored: Stored;
}

/** A dynamic-provider host and the serialized provider of the resources it drives. */
export interface Engine {
  readonly host: DynamicHost;
  /** Engine-side inputs for these arguments: what the program would send, `__provider` included. */
  inputs(args: Props): Props;
  /**
   * `pulumi preview` of a new resource: Check only (the dynamic-provider host does not support
   * previews of Create, so the engine calls nothing else). Returns the checked inputs.
   */
  previewCreate(args: Props): Promise<Props>;
  /** `pulumi up` for a new resource: Check then Create. */
  create(args: Props): Promise<Stored>;
  /** `pulumi preview` of an existing resource: Check then Diff, nothing else. */
  preview(stored: Stored, args: Props): Promise<DiffReply>;
  /** `pulumi up` of an existing resource: Check, Diff, and Update or Delete+Create when needed. */
  up(stored: Stored, args: Props): Promise<Stored>;
  /** `up`, also saying which operation it ran and why (the Diff reply). */
  upWithPlan(stored: Stored, args: Props): Promise<UpResult>;
  /** `pulumi refresh`: Read; undefined when the provider says the resource is gone. */
  refresh(stored: Stored): Promise<Stored | undefined>;
  destroy(stored: Stored): Promise<void>;
}

/** Check failed: the provider refused the inputs. */
export class CheckFailedError extends Error {
  override readonly name = "CheckFailedError";
  constructor(readonly failures: readonly { readonly property: string; readonly reason: string }[]) {
    super(`check failed: ${failures.map((f) => `${f.property} ${f.reason}`).join("; ")}`);
  }
}

/** An engine over a running host, for resources whose serialized provider is `provider`. */
export function createEngine(host: DynamicHost, provider: string): Engine {
  return new HostEngine(host, provider);
}

export interface StartEngineOptions {
  /** The program directory: where the host resolves the provider package from. */
  readonly cwd: string;
  /** The stack config the engine configures the provider with (namespaced keys). Default none. */
  readonly config?: Record<string, string>;
}

/** Starts a dynamic-provider host and configures it, as the engine does before any other call. */
export async function startEngine(provider: string, options: StartEngineOptions): Promise<Engine> {
  const host = await startDynamicHost({ cwd: options.cwd });
  try {
    await host.configure(options.config ?? {});
  } catch (error) {
    await host.stop();
    throw error;
  }
  return createEngine(host, provider);
}

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
    if (failures.length > 0) throw new CheckFailedError(failures);
    return inputs;
  }

  previewCreate(args: Props): Promise<Props> {
    return this.checked({}, args);
  }

  async create(args: Props): Promise<Stored> {
    const { id, properties } = await this.host.create(await this.checked({}, args));
    return { id, state: properties };
  }

  async preview(stored: Stored, args: Props): Promise<DiffReply> {
    return this.host.diff(stored.id, stored.state, await this.checked(stored.state, args));
  }

  async up(stored: Stored, args: Props): Promise<Stored> {
    return (await this.upWithPlan(stored, args)).stored;
  }

  async upWithPlan(stored: Stored, args: Props): Promise<UpResult> {
    const news = await this.checked(stored.state, args);
    const diff = await this.host.diff(stored.id, stored.state, news);
    if (diff.changes !== "some") return { operation: "same", diff, stored };
    if (diff.replaces.length > 0) {
      await this.host.delete(stored.id, stored.state);
      const { id, properties } = await this.host.create(news);
      return { operation: "replace", diff, stored: { id, state: properties } };
    }
    const { properties } = await this.host.update(stored.id, stored.state, news);
    return { operation: "update", diff, stored: { id: stored.id, state: properties } };
  }

  async refresh(stored: Stored): Promise<Stored | undefined> {
    const { id, properties } = await this.host.read(stored.id, stored.state);
    return id === "" ? undefined : { id, state: properties };
  }

  async destroy(stored: Stored): Promise<void> {
    await this.host.delete(stored.id, stored.state);
  }
}
