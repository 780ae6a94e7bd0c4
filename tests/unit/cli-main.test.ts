// The CLI's shell without a host: usage errors exit 2 with a hint, help and version exit 0,
// host key problems print the fingerprint and the --host-key line, nothing prints a stack.
import { HostKeyError } from "#provider/adapters/index.js";
import { parseHostKey } from "#provider/adapters/host-key.js";
import { CLI_SETTING_NAMES } from "#provider/cli/connection.js";
import { describeFailure, EXIT_FAILED, EXIT_USAGE } from "#provider/cli/failure.js";
import { main } from "#provider/cli/main.js";
import { UsageError } from "#provider/cli/usage-error.js";

const LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF2OabigtqaXzAjMcD6HGKd6hIij+MDfXeqt/sm5/ovX";

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    env,
    readFile: () => Promise.reject(new Error("no files here")),
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

test("--help prints the usage on stdout and exits 0", async () => {
  const { code, stdout, stderr } = await run(["--help"]);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^Usage: xen-passthrough disks --host HOST/);
  expect(stdout).toContain("--password-env VAR");
  expect(stderr).toBe("");
});

test("--version prints the package version", async () => {
  expect((await run(["--version"])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
});

test("a usage error exits 2 with one line and a hint, no stack", async () => {
  const { code, stdout, stderr } = await run(["disks", "--port", "22"]);
  expect(code).toBe(EXIT_USAGE);
  expect(stdout).toBe("");
  expect(stderr).toBe("xen-passthrough: --host is required\nRun `xen-passthrough --help` for the options.\n");
});

test("a missing secret variable is named, its value never printed", async () => {
  const { code, stderr } = await run(["disks", "--host", "h", "--password-env", "XEN_PW"], { OTHER: "x" });
  expect(code).toBe(EXIT_USAGE);
  expect(stderr).toContain("--password-env XEN_PW: that environment variable is not set");
});

describe("describeFailure", () => {
  const seen = parseHostKey(LINE);
  if (seen === undefined) throw new Error("test key does not parse");

  test("a host key mismatch: the fingerprint, how to check it, the --host-key to use", () => {
    const failure = describeFailure(
      new HostKeyError("HOST_KEY_MISMATCH", "root@xen1:22", seen, CLI_SETTING_NAMES),
    );
    expect(failure.exitCode).toBe(EXIT_FAILED);
    expect(failure.message).toMatch(/host key of root@xen1:22 does not match --host-key/);
    expect(failure.message).toContain("SHA256:imMHJza/K6AYTHj+ZkF31b9xz/yWnJbMz1sMufFFuNU");
    expect(failure.message).toContain("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub");
    expect(failure.message).toContain(`--host-key "${LINE}"`);
    expect(failure.message).not.toContain("connection.hostKey");
  });

  test("no host key given: the same advice", () => {
    const failure = describeFailure(
      new HostKeyError("HOST_KEY_MISSING", "root@xen1:22", seen, CLI_SETTING_NAMES),
    );
    expect(failure.message).toMatch(/no --host-key is set for root@xen1:22/);
    expect(failure.message).toContain(`--host-key "${LINE}"`);
  });

  test("usage errors exit 2, other failures 1 with their message", () => {
    expect(describeFailure(new UsageError("bad"))).toMatchObject({ exitCode: EXIT_USAGE });
    expect(describeFailure(new Error("failed to connect to root@h:22: ECONNREFUSED"))).toEqual({
      exitCode: EXIT_FAILED,
      message: "failed to connect to root@h:22: ECONNREFUSED",
    });
  });
});
