// A tiny Pulumi program, run as its own Node process by serialize.ts: declares one
// PassthroughDisk (arguments as JSON on argv[2]) under pulumi.runtime.setMocks and prints, as
// JSON, the inputs the engine would receive, `__provider` included. Mocks never run provider
// code, but the SDK serializes the provider exactly as under `pulumi up`.
import * as pulumi from "@pulumi/pulumi";
import type * as Package from "pulumi-xen-passthrough";

interface Captured {
  readonly type: string;
  readonly inputs: Record<string, unknown>;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as Record<string, unknown>;
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
  // Loaded by package name after setMocks, as a program would import it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PassthroughDisk } = require("pulumi-xen-passthrough") as typeof Package;
  new PassthroughDisk("disk", args as unknown as Package.PassthroughDiskArgs);
  process.stdout.write(`${JSON.stringify(await registered)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
