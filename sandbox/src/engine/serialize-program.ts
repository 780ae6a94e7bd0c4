// A tiny Pulumi program, run as its own Node process by serialize.ts: declares one resource of a
// provider package (which package, which export and the arguments come as JSON on argv[2]) under
// pulumi.runtime.setMocks and prints, as JSON, the inputs the engine would receive, `__provider`
// included. Mocks never run provider code, but the SDK serializes the provider exactly as under
// `pulumi up`.
import { dirname } from "node:path";
import type * as Pulumi from "@pulumi/pulumi";

/** What the parent asks for: `new (require(packageName)[exportName])("disk", args)`. */
export interface SerializeRequest {
  /** Package name or path, resolved from the working directory as a program would. */
  readonly packageName: string;
  readonly exportName: string;
  readonly resourceName: string;
  readonly args: Record<string, unknown>;
}

interface Captured {
  readonly type: string;
  readonly inputs: Record<string, unknown>;
}

type ResourceClass = new (name: string, args: unknown) => unknown;

/* eslint-disable @typescript-eslint/no-require-imports -- resolved at run time, from the package */
async function main(request: SerializeRequest): Promise<void> {
  const packagePath = require.resolve(request.packageName, { paths: [process.cwd()] });
  // The SDK copy the package itself uses: mocks only work on that one.
  const sdkPath = require.resolve("@pulumi/pulumi", { paths: [dirname(packagePath)] });
  const pulumi = require(sdkPath) as typeof Pulumi;
  let captured: (value: Captured) => void = () => undefined;
  const registered = new Promise<Captured>((resolve) => (captured = resolve));
  await pulumi.runtime.setMocks(
    {
      newResource: (resource) => {
        captured({ type: resource.type, inputs: resource.inputs as Record<string, unknown> });
        return { id: "mock-id", state: resource.inputs as Record<string, unknown> };
      },
      call: () => ({}),
    },
    "xen-passthrough-test",
    "test",
    false,
  );
  // Loaded after setMocks, as a program would import it.
  const exported = (require(packagePath) as Record<string, unknown>)[request.exportName];
  if (typeof exported !== "function") {
    throw new Error(`${request.packageName} exports no resource class ${request.exportName}`);
  }
  new (exported as ResourceClass)(request.resourceName, request.args);
  process.stdout.write(`${JSON.stringify(await registered)}\n`);
}
/* eslint-enable @typescript-eslint/no-require-imports */

if (require.main === module) {
  main(JSON.parse(process.argv[2] ?? "{}") as SerializeRequest).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
