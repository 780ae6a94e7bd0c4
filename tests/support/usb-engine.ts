// The real dynamic-provider host serving PassthroughUsb: its `__provider` from the Pulumi SDK's
// own serializer (as under `pulumi up`), with the repository as the program directory.
import { join } from "node:path";
import { serializeResource } from "xen-sandbox";
import { useEngineServing, type Engine } from "./engine";

const REPO_ROOT = join(__dirname, "..", "..", "..");

const PLACEHOLDER_ARGS = {
  connection: { host: "127.0.0.1", privateKey: "placeholder", hostKey: "ssh-ed25519 AAAA" },
  device: { vendorId: "10c4", productId: "ea60", serial: "PLACEHOLDER" },
  vm: { nameLabel: "placeholder" },
};

/** Starts the host before the file's tests and stops it after them. */
export function useUsbEngine(): () => Engine {
  return useEngineServing(() =>
    serializeResource(PLACEHOLDER_ARGS, {
      packageName: "pulumi-xen-passthrough",
      exportName: "PassthroughUsb",
      resourceName: "zigbee",
      cwd: REPO_ROOT,
    }),
  );
}
