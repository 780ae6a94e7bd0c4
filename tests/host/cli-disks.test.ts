// `xen-passthrough disks` against the dom0 sandbox, run as users run it: the built CLI in a child
// process, over real SSH (and XAPI through it, or directly over HTTPS).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { SandboxDisk } from "xen-sandbox";
import { useEngine, type Stored } from "../support/engine";
import { runCli, sshFlags } from "../support/cli-run";
import { useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 3 });
const engine = useEngine();

const HAND_RULE = "/etc/udev/rules.d/90-hand-made-passthrough.rules";

interface JsonDisk {
  kernelName: string;
  sizeBytes: number;
  serial: string | null;
  wwn: string | null;
  byId: string | null;
  byIds: string[];
  identity: Record<string, string>;
  paste: string;
  identityWarning: string | null;
  inUseByDom0: boolean;
  dom0Use: string | null;
  passedThrough: boolean;
  passthrough: {
    symlinks: string[];
    rules: { path: string; writtenBy: string }[];
    attachments: {
      vm: { nameLabel: string; powerState: string };
      attached: boolean;
      device: string;
      userdevice: string;
      managedBy: string | null;
    }[];
  } | null;
}

function sshArgs(hostKey = sandbox().ssh.hostKey): string[] {
  return sshFlags("disks", sandbox().ssh, hostKey);
}

async function listJson(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<JsonDisk[]> {
  const run = await runCli([...sshArgs(), "--json", ...extra], env);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout) as { disks: JsonDisk[] }).disks;
}

function listed(disks: JsonDisk[], disk: SandboxDisk): JsonDisk {
  const found = disks.find((d) => d.kernelName === disk.kernelName);
  if (found === undefined) throw new Error(`the CLI did not list ${disk.kernelName} (serial ${disk.serial})`);
  return found;
}

function freeDisk(index: number): SandboxDisk {
  const disk = sandbox().disks.filter((d) => !d.inUse)[index];
  if (disk === undefined) throw new Error(`the sandbox has no free disk #${index}`);
  return disk;
}

/** The whole disk holding this machine's / (the sandbox's dom0 shares it): vda here. */
function rootDiskName(): string {
  const devNumber = execFileSync("mountpoint", ["-d", "/"], { encoding: "utf8" }).trim();
  const sysPath = resolve("/sys/dev/block", readlinkSync(`/sys/dev/block/${devNumber}`));
  return existsSync(join(sysPath, "partition")) ? basename(dirname(sysPath)) : basename(sysPath);
}

async function dom0(command: string): Promise<string> {
  const result = await sandbox().exec(command);
  if (result.exitCode !== 0) throw new Error(`dom0: ${command} failed: ${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

test("--json lists every sandbox disk with its names and size, and flags dom0's disks with the reason", async () => {
  const disks = await listJson();
  for (const disk of sandbox().disks) {
    expect(listed(disks, disk)).toMatchObject({
      sizeBytes: disk.sizeBytes,
      serial: disk.serial,
      wwn: disk.wwn,
      byId: basename(disk.byId),
      identity: { serial: disk.serial },
      paste: `disk: { serial: "${disk.serial}" }`,
      identityWarning: null,
      inUseByDom0: disk.inUse,
      passedThrough: false,
    });
  }
  const inUse = sandbox().disks.find((d) => d.inUse);
  if (inUse === undefined) throw new Error("the sandbox has no in-use disk");
  expect(listed(disks, inUse).dom0Use).toMatch(/mounted in dom0 on \//);
  const root = disks.find((d) => d.kernelName === rootDiskName());
  expect(root).toMatchObject({
    inUseByDom0: true,
    dom0Use: expect.stringMatching(/dom0 boot disk/) as unknown,
  });
});

describe("disks passed through already", () => {
  let stored: Stored;
  const ours = () => freeDisk(0);
  const handMade = () => freeDisk(1);
  const location = () => `/dev/xapi/block/${handMade().kernelName}`;

  beforeAll(async () => {
    const { ssh } = sandbox();
    stored = await engine().create({
      connection: {
        host: ssh.host,
        port: ssh.port,
        privateKey: readFileSync(ssh.privateKeyPath, "utf8"),
        hostKey: ssh.hostKey,
      },
      disk: { serial: ours().serial },
      vm: { nameLabel: "media-server" },
    });
    // By hand, as the old wiki recipe does it: a rule, a scan, a VBD made with xe.
    const archive = sandbox().vms.find((vm) => vm.nameLabel === "archive");
    await dom0(
      `printf '%s\\n' 'ENV{ID_SERIAL_SHORT}=="${handMade().serial}", SYMLINK+="xapi/block/%k"' > ${HAND_RULE} && ` +
        `udevadm control --reload && udevadm trigger --action=change --settle /sys/class/block/${handMade().kernelName}`,
    );
    const sr = await dom0("xe sr-list type=udev sm-config:type=block --minimal");
    await dom0(`xe sr-scan uuid=${sr}`);
    const vdi = await dom0(`xe vdi-list location=${location()} --minimal`);
    await dom0(`xe vbd-create vm-uuid=${archive?.uuid ?? ""} vdi-uuid=${vdi} device=3`);
  });

  afterAll(async () => {
    await engine().destroy(stored);
    const vdi = await dom0(`xe vdi-list location=${location()} --minimal`);
    for (const vbd of (await dom0(`xe vbd-list vdi-uuid=${vdi} --minimal`)).split(",").filter(Boolean)) {
      await dom0(`xe vbd-destroy uuid=${vbd}`);
    }
    await dom0(
      `rm -f ${HAND_RULE} && udevadm control --reload && ` +
        `udevadm trigger --action=change --settle /sys/class/block/${handMade().kernelName}`,
    );
    await dom0(`xe sr-scan uuid=${await dom0("xe sr-list type=udev sm-config:type=block --minimal")}`);
  });

  test("--json names the VM, the VBD's owner and the rule's author", async () => {
    const disks = await listJson();
    expect(listed(disks, ours())).toMatchObject({
      inUseByDom0: false,
      passedThrough: true,
      passthrough: {
        // The provider's naming on this host (observed.symlinkNaming): the state says which.
        symlinks: [stored.state["symlinkPath"]],
        rules: [{ path: stored.state["rulePath"], writtenBy: "xen-passthrough" }],
        attachments: [
          {
            vm: { nameLabel: "media-server", powerState: "Running" },
            attached: true,
            device: stored.state["device"],
            managedBy: stored.id,
          },
        ],
      },
    });
    expect(listed(disks, handMade())).toMatchObject({
      passedThrough: true,
      passthrough: {
        symlinks: [location()],
        rules: [{ path: HAND_RULE, writtenBy: "other" }],
        attachments: [{ vm: { nameLabel: "archive" }, attached: false, userdevice: "3", managedBy: null }],
      },
    });
    expect(listed(disks, freeDisk(2)).passedThrough).toBe(false);
  });

  test("the table shows each disk's status and the identity to paste", async () => {
    const run = await runCli(sshArgs());
    expect(run.code).toBe(0);
    const line = (disk: SandboxDisk) =>
      run.stdout.split("\n").find((l) => l.startsWith(`${disk.kernelName} `));
    expect(line(ours())).toContain(
      `passed through to VM "media-server" (${String(stored.state["device"])}, attached, PassthroughDisk)`,
    );
    expect(line(handMade())).toContain(
      'passed through to VM "archive" (userdevice 3, not attached, VBD not made by xen-passthrough)',
    );
    expect(line(freeDisk(2))).toMatch(/ free$/);
    expect(run.stdout).toMatch(
      new RegExp(`^ {2}${freeDisk(2).kernelName}\\s+disk: \\{ serial: "${freeDisk(2).serial}" \\}$`, "m"),
    );
  });

  test("direct XAPI over HTTPS (pinned certificate) sees the same, and the password is never printed", async () => {
    const { xapi } = sandbox();
    const run = await runCli(
      [
        ...sshArgs(),
        "--json",
        "--xapi-url",
        xapi.url,
        "--xapi-user",
        xapi.username,
        "--xapi-password-env",
        "SANDBOX_XAPI_PW",
        "--tls-fingerprint",
        xapi.tlsFingerprint,
      ],
      { SANDBOX_XAPI_PW: xapi.password },
    );
    expect(run.code).toBe(0);
    expect(`${run.stdout}${run.stderr}`).not.toContain(xapi.password);
    const disks = (JSON.parse(run.stdout) as { disks: JsonDisk[] }).disks;
    expect(listed(disks, ours()).passthrough?.attachments).toMatchObject([
      { vm: { nameLabel: "media-server" } },
    ]);
  });
});

test("a wrong host key fails with exit code 1, the fingerprint and the --host-key to use", async () => {
  const wrong = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKy5Zr3wGZ2FqjJrG0o7sSTZqF2QzAGYHrRBPnS7y5yS";
  const run = await runCli(sshArgs(wrong));
  expect(run.code).toBe(1);
  expect(run.stdout).toBe("");
  const fingerprint = execFileSync("ssh-keygen", ["-lf", "-"], {
    input: sandbox().ssh.hostKey,
    encoding: "utf8",
  }).split(" ")[1];
  expect(run.stderr).toContain(`does not match --host-key`);
  expect(run.stderr).toContain(`The server presented ${fingerprint ?? "?"}`);
  expect(run.stderr).toContain(`--host-key "${sandbox().ssh.hostKey}"`);
  expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
});

test("a usage error exits 2 before connecting", async () => {
  const run = await runCli(["disks", "--host", sandbox().ssh.host, "--password-env", "UNSET_VARIABLE"]);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain("--password-env UNSET_VARIABLE: that environment variable is not set");
});
