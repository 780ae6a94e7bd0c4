// What every resource type of this package hands the dynamic-provider host: its inputs with the
// credentials made secret, the hidden owner, and its outputs listed for the engine to fill in.
import * as pulumi from "@pulumi/pulumi";

/** `pulumi.Output<>` of every output (arrays as users had them: mutable). */
export type OutputsOf<T> = {
  readonly [K in keyof T]-?: pulumi.Output<T[K] extends readonly (infer E)[] ? E[] : T[K]>;
};

/** Inputs that hold credentials: secret in the state and in outputs. */
const SECRET_PROPERTIES = ["connection", "xapi"];

/** The props and options of resource `name`; `outputKeys` are its outputs. */
export function resourceProps(
  name: string,
  args: { readonly connection: unknown; readonly xapi?: unknown },
  outputKeys: readonly string[],
  opts: pulumi.CustomResourceOptions | undefined,
): { props: Record<string, unknown>; opts: pulumi.CustomResourceOptions } {
  const props: Record<string, unknown> = {
    ...args,
    connection: pulumi.secret(args.connection),
    xapi: args.xapi === undefined ? undefined : pulumi.secret(args.xapi),
    // Hidden input: who owns the pieces on the host (dynamic providers never see the URN). A
    // rename or alias changes it, and the update takes the pieces over.
    owner: `${pulumi.getProject()}/${pulumi.getStack()}/${name}`,
    // Outputs: listed (as undefined, never sent as inputs) so the engine fills them in.
    ...Object.fromEntries(outputKeys.map((key) => [key, undefined])),
  };
  return { props, opts: pulumi.mergeOptions(opts, { additionalSecretOutputs: SECRET_PROPERTIES }) };
}
