// Starts the real @pulumi/pulumi dynamic-provider host (the process `pulumi up` starts for
// dynamic resources) and drives it over gRPC with the SDK's own generated stubs, exactly as the
// engine does: plain JS property objects in and out, `__provider` included, secrets unwrapped
// (the host tells the engine it does not accept secrets), unknowns as the sentinel string.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb.js";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb.js";
import * as proto from "@pulumi/pulumi/proto/provider_pb.js";
import { Status } from "@pulumi/pulumi/proto/status_pb.js";

type Props = Record<string, unknown>;

/** A gRPC call the host answered with an error; `initFailure` is set for partial creates/updates. */
export class HostCallError extends Error {
  override readonly name = "HostCallError";
  constructor(
    readonly method: string,
    readonly grpcCode: number,
    readonly details: string,
    readonly initFailure?: { readonly id: string; readonly properties: Props; readonly reasons: string[] },
  ) {
    super(`dynamic-provider host ${method} failed: ${details}`);
  }
}

export interface CheckReply {
  readonly inputs: Props;
  readonly failures: { readonly property: string; readonly reason: string }[];
}

export interface DiffReply {
  readonly changes: "unknown" | "none" | "some";
  readonly replaces: string[];
  readonly deleteBeforeReplace: boolean;
}

/** The host process and typed calls of its ResourceProvider service. */
export interface DynamicHost {
  readonly port: number;
  configure(config: Record<string, string>): Promise<void>;
  check(olds: Props, news: Props): Promise<CheckReply>;
  diff(id: string, olds: Props, news: Props): Promise<DiffReply>;
  create(properties: Props, options?: { preview?: boolean }): Promise<{ id: string; properties: Props }>;
  read(
    id: string,
    properties: Props,
    inputs?: Props,
  ): Promise<{ id: string; properties: Props; inputs?: Props }>;
  update(
    id: string,
    olds: Props,
    news: Props,
    options?: { preview?: boolean },
  ): Promise<{ properties: Props }>;
  delete(id: string, properties: Props): Promise<void>;
  /** Everything the host printed so far (stdout and stderr: provider console.log lands here). */
  output(): string;
  stop(): Promise<void>;
}

const TYPE = "pulumi-nodejs:dynamic/xen-passthrough:PassthroughDisk";
const URN = `urn:pulumi:test::xen-passthrough::${TYPE}::disk`;

/** The resource every request is about: the one PassthroughDisk "disk" of the test stack. */
function aboutTheDisk<R extends { setUrn(v: string): R; setName(v: string): R; setType(v: string): R }>(
  request: R,
): R {
  return request.setUrn(URN).setName("disk").setType(TYPE);
}

/** Where the host's entry point is: next to the installed @pulumi/pulumi. */
export function dynamicHostEntry(): string {
  return join(dirname(require.resolve("@pulumi/pulumi/package.json")), "cmd", "dynamic-provider", "index.js");
}

/**
 * Starts the host. `cwd` decides where it resolves packages from (the serialized provider
 * requires pulumi-xen-passthrough by name), as the program directory does under `pulumi up`.
 */
export async function startDynamicHost(
  options: { cwd?: string; env?: NodeJS.ProcessEnv; entry?: string } = {},
): Promise<DynamicHost> {
  // The host wants the engine's address as its argument; it never dials it. `entry`: another
  // SDK copy's host (default: this one's), e.g. the program's own @pulumi/pulumi.
  const child = spawn(process.execPath, [options.entry ?? dynamicHostEntry(), "127.0.0.1:1"], {
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let printed = "";
  child.stderr.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  const port = await firstLine(child, (chunk) => (printed += chunk));
  const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Host(child, client, port, () => printed);
}

function firstLine(child: ChildProcessWithoutNullStreams, record: (chunk: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onExit = (code: number | null) =>
      reject(new Error(`dynamic-provider host exited (${code}) before printing its port`));
    child.once("exit", onExit);
    child.stdout.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      record(text);
      if (buffered.includes("\n")) return;
      buffered += text;
      const line = buffered.split("\n")[0];
      if (buffered.includes("\n") && line !== undefined) {
        child.off("exit", onExit);
        const port = Number(line.trim());
        if (Number.isInteger(port) && port > 0) resolve(port);
        else reject(new Error(`dynamic-provider host printed "${line}" instead of its port`));
      }
    });
  });
}

type Callback<R> = (error: grpc.ServiceError | null, reply: R) => void;

class Host implements DynamicHost {
  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly client: ResourceProviderClient,
    readonly port: number,
    readonly output: () => string,
  ) {}

  async configure(config: Record<string, string>): Promise<void> {
    const request = new proto.ConfigureRequest();
    request.setArgs(toStruct(config));
    request.setAcceptsecrets(true);
    await this.call<proto.ConfigureResponse>("configure", (cb) => this.client.configure(request, cb));
  }

  async check(olds: Props, news: Props): Promise<CheckReply> {
    const request = aboutTheDisk(new proto.CheckRequest()).setOlds(toStruct(olds)).setNews(toStruct(news));
    const reply = await this.call<proto.CheckResponse>("check", (cb) => this.client.check(request, cb));
    return {
      inputs: fromStruct(reply.getInputs()),
      failures: reply.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async diff(id: string, olds: Props, news: Props): Promise<DiffReply> {
    const request = aboutTheDisk(new proto.DiffRequest())
      .setId(id)
      .setOlds(toStruct(olds))
      .setNews(toStruct(news));
    const reply = await this.call<proto.DiffResponse>("diff", (cb) => this.client.diff(request, cb));
    const changes = { 0: "unknown", 1: "none", 2: "some" } as const;
    return {
      changes: changes[reply.getChanges()],
      replaces: reply.getReplacesList(),
      deleteBeforeReplace: reply.getDeletebeforereplace(),
    };
  }

  async create(
    properties: Props,
    options: { preview?: boolean } = {},
  ): Promise<{ id: string; properties: Props }> {
    const request = aboutTheDisk(new proto.CreateRequest())
      .setProperties(toStruct(properties))
      .setPreview(options.preview ?? false);
    const reply = await this.call<proto.CreateResponse>("create", (cb) => this.client.create(request, cb));
    return { id: reply.getId(), properties: fromStruct(reply.getProperties()) };
  }

  async read(
    id: string,
    properties: Props,
    inputs?: Props,
  ): Promise<{ id: string; properties: Props; inputs?: Props }> {
    const request = aboutTheDisk(new proto.ReadRequest()).setId(id).setProperties(toStruct(properties));
    if (inputs !== undefined) request.setInputs(toStruct(inputs));
    const reply = await this.call<proto.ReadResponse>("read", (cb) => this.client.read(request, cb));
    const replyInputs = reply.getInputs();
    return {
      id: reply.getId(),
      properties: fromStruct(reply.getProperties()),
      ...(replyInputs === undefined ? {} : { inputs: fromStruct(replyInputs) }),
    };
  }

  async update(
    id: string,
    olds: Props,
    news: Props,
    options: { preview?: boolean } = {},
  ): Promise<{ properties: Props }> {
    const request = aboutTheDisk(new proto.UpdateRequest())
      .setId(id)
      .setOlds(toStruct(olds))
      .setNews(toStruct(news))
      .setPreview(options.preview ?? false);
    const reply = await this.call<proto.UpdateResponse>("update", (cb) => this.client.update(request, cb));
    return { properties: fromStruct(reply.getProperties()) };
  }

  async delete(id: string, properties: Props): Promise<void> {
    const request = aboutTheDisk(new proto.DeleteRequest()).setId(id).setProperties(toStruct(properties));
    await this.call<unknown>("delete", (cb) => this.client.delete(request, cb));
  }

  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    await exited;
  }

  private call<R>(method: string, start: (callback: Callback<R>) => void): Promise<R> {
    return new Promise((resolve, reject) => {
      start((error, reply) => (error === null ? resolve(reply) : reject(toHostError(method, error))));
    });
  }
}

/** Unpacks the ErrorResourceInitFailed detail the host sends for a create/update rejected with an id. */
function toHostError(method: string, error: grpc.ServiceError): HostCallError {
  const [details] = error.metadata.get("grpc-status-details-bin");
  if (details instanceof Buffer) {
    const status = Status.deserializeBinary(new Uint8Array(details));
    for (const any of status.getDetailsList()) {
      const failure = any.unpack(
        (bytes) => proto.ErrorResourceInitFailed.deserializeBinary(bytes),
        "pulumirpc.ErrorResourceInitFailed",
      );
      if (failure !== null) {
        return new HostCallError(method, error.code, error.details, {
          id: failure.getId(),
          properties: fromStruct(failure.getProperties()),
          reasons: failure.getReasonsList(),
        });
      }
    }
  }
  return new HostCallError(method, error.code, error.details);
}

/** JSON round trip first: Struct cannot carry undefined (the engine never sends it either). */
function toStruct(value: Props): Struct {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(value)) as Record<string, never>);
}

function fromStruct(struct: Struct | undefined): Props {
  return struct?.toJavaScript() ?? {};
}
