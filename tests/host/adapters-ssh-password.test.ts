// Password login (no key), as @pulumi/command's `connection.password` allows.
import { RemoteHost } from "#provider/adapters/index.js";
import { withSshDefaults } from "#provider/core/inputs.js";
import { useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 0, passwordLogin: true });

function passwordSpec(password: string) {
  const { ssh } = sandbox();
  return withSshDefaults({
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    password,
    hostKey: ssh.hostKey,
  });
}

it("logs in with the password", async () => {
  const password = sandbox().ssh.password;
  expect(password).toBeDefined();
  const remote = await RemoteHost.connect(passwordSpec(password ?? ""));
  try {
    expect(await remote.run("id -un")).toBe("root\n");
  } finally {
    await remote.close();
  }
});

it("refuses a wrong password at once (no dial retries), never showing it", async () => {
  const log: string[] = [];
  const error: unknown = await RemoteHost.connect(passwordSpec("wrong-Passw0rd"), (line) =>
    log.push(line),
  ).catch((caught: unknown) => caught);
  expect(error).toMatchObject({ code: "SSH_CONNECT_FAILED" });
  expect((error as Error).message).toContain("authentication methods failed");
  expect((error as Error).message).not.toContain("wrong-Passw0rd");
  expect(log).toEqual([]);
});
