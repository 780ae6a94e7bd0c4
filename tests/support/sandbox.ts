// One line per test file: `const sandbox = useSandbox({ disks: 2 });` starts a dom0 sandbox
// before the file's tests and removes it afterwards; call `sandbox()` inside a test.
import { readFileSync } from "node:fs";
import { startSandbox } from "xen-sandbox";
import type { Sandbox, SandboxOptions } from "xen-sandbox";

/** Starts one sandbox for the whole test file (beforeAll) and stops it (afterAll). */
export function useSandbox(options: SandboxOptions = {}): () => Sandbox {
  let sandbox: Sandbox | undefined;
  beforeAll(async () => {
    sandbox = await startSandbox(options);
  });
  afterAll(async () => {
    await sandbox?.stop();
  });
  return () => {
    if (sandbox === undefined) throw new Error("the sandbox did not start: see the beforeAll failure above");
    return sandbox;
  };
}

/** The `connection` input of a PassthroughDisk for this sandbox's dom0 (key auth, host key pinned). */
export function connectionTo<T extends object = Record<string, never>>(sandbox: Sandbox, overrides?: T) {
  const { ssh } = sandbox;
  return {
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    privateKey: readFileSync(ssh.privateKeyPath, "utf8"),
    hostKey: ssh.hostKey,
    ...overrides,
  };
}
