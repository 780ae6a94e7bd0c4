// Runs a compiled example program under pulumi.runtime.setMocks in its own Node process and
// reports every registered resource: it lives in xen-sandbox (the demo uses it too); re-exported
// here for the tests.
export {
  SECRET_SIGNATURE_KEY,
  configDeclarationProblems,
  isSecretValue,
  readProjectFile,
  readStackConfig,
  runProgramUnderMocks,
  withSecretsRevealed,
  withoutSecrets,
} from "xen-sandbox";
export type {
  ConfigDeclaration,
  MockRun,
  MockRunOptions,
  ProjectFile,
  RegisteredResource,
} from "xen-sandbox";
