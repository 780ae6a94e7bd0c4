// The engine driver: the real Pulumi dynamic-provider host driven over gRPC as `pulumi up` does,
// plus the helpers that produce what a program sends it (a serialized provider, a program's
// registered resources under mocks). Used by the tests and by `npm run demo`.
export {
  HostCallError,
  dynamicHostEntry,
  startDynamicHost,
  type CheckReply,
  type DiffReply,
  type DynamicHost,
} from "./dynamic-host";
export {
  CheckFailedError,
  createEngine,
  startEngine,
  type Engine,
  type StartEngineOptions,
  type Stored,
  type UpOperation,
  type UpResult,
} from "./engine";
export {
  asEngineSendsThem,
  serializeResource,
  type SerializeOptions,
  type SerializedResource,
} from "./serialize";
export {
  SECRET_SIGNATURE_KEY,
  configDeclarationProblems,
  isSecretValue,
  readProjectFile,
  readStackConfig,
  runProgramUnderMocks,
  withSecretsRevealed,
  withoutSecrets,
  type ConfigDeclaration,
  type MockRun,
  type MockRunOptions,
  type ProjectFile,
  type RegisteredResource,
} from "./mock-program";
