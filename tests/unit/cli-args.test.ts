// The discovery CLI's command line: parsing, checks with the resource's allow-lists, and how
// files and secret environment variables become connection settings.
import { parseCommandLine, type DisksOptions } from "#provider/cli/args.js";
import { CLI_DIAL_ATTEMPTS, resolveConnection } from "#provider/cli/connection.js";
import { UsageError } from "#provider/cli/usage-error.js";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF2OabigtqaXzAjMcD6HGKd6hIij+MDfXeqt/sm5/ovX";

function disks(...argv: string[]): DisksOptions {
  const command = parseCommandLine(["disks", ...argv]);
  if (command.command !== "disks") throw new Error(`parsed as ${command.command}`);
  return command.options;
}

function usageError(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
}

describe("parseCommandLine", () => {
  test("defaults: port 22, user root, host key checked, table output", () => {
    expect(disks("--host", "xen1.lan", "--private-key-file", "/k")).toEqual({
      host: "xen1.lan",
      port: 22,
      user: "root",
      privateKeyFile: "/k",
      insecureSkipHostKeyCheck: false,
      json: false,
      all: false,
    });
  });

  test("every option", () => {
    const options = disks(
      ...["--host", "192.0.2.10", "--port", "2222", "--user", "admin", "--password-env", "XEN_PW"],
      ...["--host-key", HOST_KEY, "--xapi-url", "https://192.0.2.10", "--xapi-user", "ops"],
      ...["--xapi-password-env", "XAPI_PW", "--tls-fingerprint", "AB".repeat(32), "--json", "--all"],
    );
    expect(options).toMatchObject({
      host: "192.0.2.10",
      port: 2222,
      user: "admin",
      passwordEnv: "XEN_PW",
      hostKey: HOST_KEY,
      xapi: {
        url: "https://192.0.2.10",
        username: "ops",
        passwordEnv: "XAPI_PW",
        tlsFingerprint: "AB".repeat(32),
      },
      json: true,
      all: true,
    });
  });

  test("a SHA256 fingerprint is a host key too", () => {
    const fingerprint = "SHA256:imMHJza/K6AYTHj+ZkF31b9xz/yWnJbMz1sMufFFuNU";
    expect(disks("--host", "h", "--host-key", fingerprint).hostKey).toBe(fingerprint);
  });

  test("usb takes the same connection options as disks", () => {
    expect(parseCommandLine(["usb", "--host", "xen1.lan", "--json"])).toEqual({
      command: "usb",
      options: { ...disks("--host", "xen1.lan"), json: true },
    });
  });

  test("help and version", () => {
    expect(parseCommandLine(["--help"])).toEqual({ command: "help" });
    expect(parseCommandLine(["disks", "-h"])).toEqual({ command: "help" });
    expect(parseCommandLine(["help"])).toEqual({ command: "help" });
    expect(parseCommandLine(["--version"])).toEqual({ command: "version" });
  });

  test.each([
    [[], /no command given/],
    [["list"], /unknown command "list"; the commands are `disks` and `usb`/],
    [["usb", "--host", "h", "--all"], /--all applies to `disks` only/],
    [["disks"], /--host is required/],
    [["disks", "--host", "h", "--bogus"], /^unknown option --bogus$/],
    [["disks", "--host", "h", "extra"], /unexpected argument "extra"/],
    [["disks", "--host", "a;b"], /--host contains a shell operator/],
    [["disks", "--host", "h", "--port", "70000"], /--port must be a whole number from 1 to 65535/],
    [["disks", "--host", "h", "--port", "22x"], /--port must be/],
    [["disks", "--host", "h", "--user", "Root"], /--user is not in the allowed form/],
    [["disks", "--host", "h", "--host-key", "nonsense"], /--host-key holds no public key/],
    [["disks", "--host", "h", "--host-key", HOST_KEY, "--host-key-file", "f"], /not both/],
    [["disks", "--host", "h", "--host-key", HOST_KEY, "--insecure-skip-host-key-check"], /contradicts/],
    [["disks", "--host", "h", "--xapi-url", "http://h"], /--xapi-url needs --xapi-password-env/],
    [
      ["disks", "--host", "h", "--xapi-url", "http://h", "--xapi-password-env", "P"],
      /--xapi-url is not an https URL/,
    ],
    [["disks", "--host", "h", "--tls-fingerprint", "AB"], /--tls-fingerprint needs --xapi-url/],
    [["disks", "--host", "h", "--json=yes"], /does not take an argument/],
  ])("rejects %j", (argv, message) => {
    expect(usageError(argv)).toMatch(message);
  });

  test("a secret typed where a variable name belongs is refused without being echoed", () => {
    const message = usageError(["disks", "--host", "h", "--password-env", "hunter2!"]);
    expect(message).toMatch(/NAME of an environment variable/);
    expect(message).not.toContain("hunter2");
  });
});

describe("resolveConnection", () => {
  const files: Record<string, string> = {
    "/keys/id": "PRIVATE KEY",
    "/keys/host.pub": `${HOST_KEY} root@xen1\n`,
  };
  const environment = (env: Record<string, string>) => ({
    env,
    readFile: (path: string) => {
      const text = files[path];
      return text === undefined
        ? Promise.reject(Object.assign(new Error("nope"), { code: "ENOENT" }))
        : Promise.resolve(text);
    },
  });

  test("reads the key and host key files; fewer dial attempts than a resource", async () => {
    const { spec, xapi } = await resolveConnection(
      disks("--host", "h", "--private-key-file", "/keys/id", "--host-key-file", "/keys/host.pub"),
      environment({}),
    );
    expect(spec).toMatchObject({ host: "h", port: 22, user: "root", privateKey: "PRIVATE KEY" });
    expect(spec.hostKey).toBe(`${HOST_KEY} root@xen1`);
    expect(spec.dialErrorLimit).toBe(CLI_DIAL_ATTEMPTS);
    expect(xapi).toBeUndefined();
  });

  test("secrets come from the named environment variables", async () => {
    const { spec, xapi } = await resolveConnection(
      disks(
        ...["--host", "h", "--password-env", "SSH_PW", "--insecure-skip-host-key-check"],
        ...["--xapi-url", "https://h", "--xapi-password-env", "XAPI_PW"],
      ),
      environment({ SSH_PW: "s3cret", XAPI_PW: "x4pi" }),
    );
    expect(spec).toMatchObject({ password: "s3cret", insecureSkipHostKeyCheck: true });
    expect(xapi).toEqual({ url: "https://h", username: "root", password: "x4pi", allowUnauthorized: false });
  });

  test("an SSH agent is a way to log in", async () => {
    const { spec } = await resolveConnection(
      disks("--host", "h"),
      environment({ SSH_AUTH_SOCK: "/run/agent" }),
    );
    expect(spec.agentSocketPath).toBe("/run/agent");
  });

  test.each([
    [["--host", "h"], {}, /no way to log in/],
    [["--host", "h", "--password-env", "PW"], {}, /--password-env PW: that environment variable is not set/],
    [
      ["--host", "h", "--private-key-file", "/missing"],
      {},
      /--private-key-file \/missing cannot be read \(ENOENT\)/,
    ],
    [
      ["--host", "h", "--private-key-file", "/keys/id", "--host-key-file", "/keys/id"],
      {},
      /holds no public key/,
    ],
  ])("refuses %j", async (argv, env, message) => {
    await expect(resolveConnection(disks(...argv), environment(env))).rejects.toThrow(message);
    await expect(resolveConnection(disks(...argv), environment(env))).rejects.toBeInstanceOf(UsageError);
  });
});
