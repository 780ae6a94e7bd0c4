// Runs a compiled example program under pulumi.runtime.setMocks in its own Node process (a fresh
// SDK and module cache per run, outside Jest's module system) with a given stack config, and
// reports what the engine would have received: every registered resource with its inputs
// (secrets still wrapped as the SDK sends them), its dependencies, and the stack outputs.
// Mocks never run provider code, but the SDK serializes each dynamic provider as under `pulumi up`.
// The child loads @pulumi/pulumi from the program's directory: mocks only work on the SDK copy
// the program itself uses.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import type * as Pulumi from "@pulumi/pulumi";

export interface MockRunOptions {
  /** Absolute path of the compiled program (its index.js). */
  readonly program: string;
  /** Project name: the namespace of the config keys the program reads with `new pulumi.Config()`. */
  readonly project: string;
  /** Config values by key without namespace; non-strings are passed as JSON, as the CLI does. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Keys (without namespace) set with `pulumi config set --secret`. */
  readonly secretKeys?: readonly string[];
  /** Device each mocked PassthroughDisk reports: "plugged" (xvdb, xvdc, ...; default) or "" (VM halted). */
  readonly devices?: "plugged" | "none";
}

export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** Inputs as the mock monitor deserializes them: secrets stay wrapped (see isSecretValue). */
  readonly inputs: Record<string, unknown>;
  /** URNs this resource depends on (explicit dependsOn and those of its input Outputs). */
  readonly dependencies: readonly string[];
  /** The resource options the engine would act on, as the SDK sent them. */
  readonly options: RegisteredOptions;
}

/** Resource options as registered: what the engine, not the provider, acts on. */
export interface RegisteredOptions {
  readonly deleteBeforeReplace: boolean;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly ignoreChanges: readonly string[];
  /** Former names given as aliases (alias specs' names, or the names at the end of alias URNs). */
  readonly aliasNames: readonly string[];
}

export interface MockRun {
  readonly resources: readonly RegisteredResource[];
  /** Stack outputs as registered by the SDK (secrets wrapped). */
  readonly outputs: Record<string, unknown>;
  /** Config keys the program read, namespaced ("project:key"). */
  readonly configKeysRead: readonly string[];
  /** The program's failure, if it failed. */
  readonly error?: string;
}

/** The SDK's marker of a secret value inside serialized properties. */
export const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

/** Whether a value is a secret as the SDK serializes one: `{ [sig]: secretSig, value }`. */
export function isSecretValue(value: unknown): value is { readonly value: unknown } {
  return (
    value !== null &&
    typeof value === "object" &&
    (value as Record<string, unknown>)[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE
  );
}

/** The value with every secret replaced by "[secret]": what may be shown in plain text. */
export function withoutSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return "[secret]";
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, withoutSecrets(v)]));
}

/** The value with every secret unwrapped: what a provider receives from the engine. */
export function withSecretsRevealed(value: unknown): unknown {
  if (isSecretValue(value)) return withSecretsRevealed(value.value);
  if (Array.isArray(value)) return value.map(withSecretsRevealed);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, withSecretsRevealed(v)]));
}

const RESULT_PREFIX = "MOCK-RUN-RESULT ";

/** Runs the program in a child Node process and returns what it registered. */
export async function runProgramUnderMocks(options: MockRunOptions): Promise<MockRun> {
  // A failed program leaves promises pending, and the SDK's leak check then sets a failing exit
  // code: the printed result is what counts.
  const stdout = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      [__filename, JSON.stringify(options)],
      { maxBuffer: 64 * 1024 * 1024 },
      (_error, out, err) => resolve(`${out}\n${err}`),
    );
  });
  const line = stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
  if (line === undefined) throw new Error(`the program run printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as MockRun;
}

// ---- Project and stack files -----------------------------------------------------------------

// js-yaml comes with @pulumi/pulumi (which parses stack files with it); it ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as { load(text: string): unknown };

/** A typed config declaration of a Pulumi.yaml `config:` block. */
export interface ConfigDeclaration {
  readonly type?: string;
  readonly description?: string;
  readonly secret?: boolean;
  readonly default?: unknown;
  readonly items?: { readonly type: string };
}

/** A Pulumi.yaml, parsed. */
export interface ProjectFile {
  readonly name: string;
  readonly runtime: string;
  readonly main?: string;
  readonly config?: Record<string, ConfigDeclaration>;
}

export function readProjectFile(path: string): ProjectFile {
  return yaml.load(readFileSync(path, "utf8")) as ProjectFile;
}

/**
 * What a Pulumi.yaml `config:` block breaks of the project file schema (sdk/go/common/workspace/
 * project.json) and of the CLI's rules: declarations take only these keys, types are simple, an
 * array names its items, and a secret key cannot have a default.
 */
export function configDeclarationProblems(project: ProjectFile): string[] {
  const allowed = ["type", "items", "description", "secret", "default"];
  return Object.entries(project.config ?? {}).flatMap(([key, declaration]) => [
    ...Object.keys(declaration)
      .filter((field) => !allowed.includes(field))
      .map((field) => `${key}: unknown field ${field}`),
    ...(["string", "integer", "boolean", "array"].includes(declaration.type ?? "")
      ? []
      : [`${key}: type ${String(declaration.type)}`]),
    ...(declaration.type === "array" && declaration.items === undefined
      ? [`${key}: array without items`]
      : []),
    ...(declaration.secret === true && declaration.default !== undefined
      ? [`${key}: secret with a default`]
      : []),
    ...(typeof declaration.description === "string" && declaration.description.length > 0
      ? []
      : [`${key}: no description`]),
  ]);
}

/** The config of a stack file (Pulumi.<stack>.yaml) for `project`, keys without namespace. */
export function readStackConfig(path: string, project: string): Record<string, unknown> {
  const file = yaml.load(readFileSync(path, "utf8")) as { config?: Record<string, unknown> };
  const prefix = `${project}:`;
  return Object.fromEntries(
    Object.entries(file.config ?? {}).map(([key, value]) => {
      if (!key.startsWith(prefix)) throw new Error(`${path}: key ${key} is not in the namespace ${project}`);
      return [key.slice(prefix.length), value];
    }),
  );
}

// ---- Child process side -------------------------------------------------------------------

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getDeletebeforereplace(): boolean;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getIgnorechangesList(): string[];
  getAliasurnsList(): string[];
  getAliasesList(): { getSpec(): { getName(): string } | undefined; getUrn(): string }[];
}

const NO_OPTIONS: RegisteredOptions = {
  deleteBeforeReplace: false,
  protect: false,
  retainOnDelete: false,
  ignoreChanges: [],
  aliasNames: [],
};

function registeredOptions(request: RegisterRequest): RegisteredOptions {
  const aliasNames = [
    ...request
      .getAliasesList()
      .map((alias) => alias.getSpec()?.getName() ?? alias.getUrn().split("::").pop()),
    ...request.getAliasurnsList().map((urn) => urn.split("::").pop()),
  ].filter((name): name is string => name !== undefined && name !== "");
  return {
    deleteBeforeReplace: request.getDeletebeforereplace(),
    protect: request.getProtect() === true,
    retainOnDelete: request.getRetainondelete() === true,
    ignoreChanges: request.getIgnorechangesList(),
    aliasNames,
  };
}
interface OutputsRequest {
  getUrn(): string;
  getOutputs(): Parameters<typeof Pulumi.runtime.deserializeProperties>[0] | undefined;
}
type Callback = (error: unknown, response?: unknown) => void;
interface MonitorMethods {
  registerResource(request: RegisterRequest, callback: Callback): Promise<void>;
  registerResourceOutputs(request: OutputsRequest, callback: Callback): void;
}

async function runChild(options: MockRunOptions): Promise<MockRun> {
  // Loaded here, not at the top: the parent (a Jest test, the demo) must not load the SDK.
  const fromProgram = (specifier: string): unknown =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(require.resolve(specifier, { paths: [dirname(options.program)] }));
  const pulumi = fromProgram("@pulumi/pulumi") as typeof Pulumi;
  const runtimeConfig = fromProgram("@pulumi/pulumi/runtime/config") as { getConfig(key: string): unknown };

  const configKeysRead = new Set<string>();
  const getConfig = runtimeConfig.getConfig.bind(runtimeConfig);
  runtimeConfig.getConfig = (key: string) => {
    configKeysRead.add(key);
    return getConfig(key);
  };

  const resources: { type: string; name: string; urn?: string; inputs: Record<string, unknown> }[] = [];
  const dependencies = new Map<string, string[]>();
  const registered = new Map<string, RegisteredOptions>();
  let outputs: Record<string, unknown> = {};
  let deviceIndex = 0;

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const inputs = args.inputs as Record<string, unknown>;
        resources.push({ type: args.type, name: args.name, inputs });
        if (typeof inputs["__provider"] !== "string") return { id: `${args.name}-id`, state: inputs };
        // A PassthroughDisk: answer as a successful create would.
        deviceIndex += 1;
        const device = options.devices === "none" ? "" : `xvd${String.fromCharCode(0x61 + deviceIndex)}`;
        return {
          id: `${args.name}-id`,
          state: {
            ...inputs,
            device,
            vbdUuid: `00000000-0000-4000-8000-${String(deviceIndex).padStart(12, "0")}`,
            currentlyAttached: device !== "",
            drift: [],
          },
        };
      },
      call: () => ({}),
    },
    options.project,
    "test",
    false,
  );

  // Record what the mock monitor's callers send beyond what `newResource` sees.
  const monitor = pulumi.runtime.getMonitor() as unknown as MonitorMethods;
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) =>
    registerResource(request, (error, response) => {
      const urn = (response as { getUrn(): string } | undefined)?.getUrn();
      if (urn !== undefined) {
        dependencies.set(urn, request.getDependenciesList());
        registered.set(urn, registeredOptions(request));
        const resource = resources.find(
          (r) => r.urn === undefined && r.type === request.getType() && r.name === request.getName(),
        );
        if (resource !== undefined) resource.urn = urn;
      }
      callback(error, response);
    });
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (request, callback) => {
    const struct = request.getOutputs();
    if (request.getUrn().includes("pulumi:pulumi:Stack") && struct !== undefined) {
      outputs = pulumi.runtime.deserializeProperties(struct);
    }
    registerOutputs(request, callback);
  };

  const config = Object.fromEntries(
    Object.entries(options.config).map(([key, value]) => [
      `${options.project}:${key}`,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
  pulumi.runtime.setAllConfig(
    config,
    (options.secretKeys ?? []).map((key) => `${options.project}:${key}`),
  );

  let error: string | undefined;
  const failures: unknown[] = [];
  process.on("unhandledRejection", (reason) => failures.push(reason));
  try {
    // As the Node.js language host runs a program: inside the root Stack resource, its exports
    // becoming the stack outputs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await pulumi.runtime.runInPulumiStack(() => Promise.resolve(require(options.program) as unknown));
    await pulumi.runtime.disconnect();
    // A failed registration surfaces as unhandled rejections (the language host fails the run on
    // them); Node reports those after the current jobs, so let it.
    await new Promise((resolve) => setImmediate(resolve));
  } catch (caught) {
    failures.unshift(caught);
  }
  const messages = new Set(failures.map((f) => (f instanceof Error ? f.message : String(f))));
  if (messages.size > 0) error = [...messages].join("\n");
  return {
    resources: resources
      .filter((r) => r.type !== "pulumi:pulumi:Stack")
      .map((r) => ({
        ...r,
        urn: r.urn ?? "",
        dependencies: dependencies.get(r.urn ?? "") ?? [],
        options: registered.get(r.urn ?? "") ?? NO_OPTIONS,
      })),
    outputs,
    configKeysRead: [...configKeysRead].sort(),
    ...(error === undefined ? {} : { error }),
  };
}

if (require.main === module) {
  runChild(JSON.parse(process.argv[2] ?? "{}") as MockRunOptions)
    .then((result) => {
      process.stdout.write(`\n${RESULT_PREFIX}${JSON.stringify(result)}\n`);
      // Sockets the SDK leaves open must not keep the process alive.
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
