// The ci-rebuild example program (examples/ci-rebuild, compiled), run under Pulumi mocks with its
// sample stack file and with broken inventories: which disk goes to which VM on which host, that
// the SSH key stays secret, that a bad inventory stops the program before anything is declared,
// and that the sample CI workflow previews pull requests and repairs on main.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkInputs } from "#provider/core/check.js";
import {
  configDeclarationProblems,
  isSecretValue,
  readProjectFile,
  readStackConfig,
  runProgramUnderMocks,
  withoutSecrets,
  withSecretsRevealed,
  type MockRun,
} from "xen-sandbox";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as { load(text: string): unknown };

const ROOT = join(__dirname, "..", "..", "..");
const EXAMPLE = join(ROOT, "examples", "ci-rebuild");
const PROJECT = "xen-passthrough-ci-rebuild";
const DISK_TYPE = "pulumi-nodejs:dynamic/xen-passthrough:PassthroughDisk";
const SSH_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nci-key-material-Y2kta2V5\n-----END OPENSSH PRIVATE KEY-----";

const sample = readStackConfig(join(EXAMPLE, "Pulumi.example.yaml"), PROJECT);
type Hosts = { name: string; vms: { disks: Record<string, unknown>[] }[]; [key: string]: unknown }[];
const sampleHosts = (): Hosts => structuredClone(sample["hosts"]) as Hosts;

function run(hosts: unknown): Promise<MockRun> {
  return runProgramUnderMocks({
    program: join(EXAMPLE, "dist", "index.js"),
    project: PROJECT,
    config: { hosts, sshPrivateKey: SSH_KEY },
    secretKeys: ["sshPrivateKey"],
  });
}

function unwrapSecret(value: unknown): unknown {
  if (!isSecretValue(value)) throw new Error(`expected a secret, got ${JSON.stringify(value)}`);
  return value.value;
}

let result: MockRun;
beforeAll(async () => {
  result = await run(sample["hosts"]);
});

describe("the inventory in the sample stack file", () => {
  test("declares every disk on its VM and host, named host-disk", () => {
    expect(result.error).toBeUndefined();
    const disks = result.resources.filter((r) => r.type === DISK_TYPE);
    expect(result.resources).toHaveLength(disks.length);
    const declared = Object.fromEntries(disks.map((d) => [d.name, withoutSecrets(d.inputs)]));
    // (in any order: aliases make the SDK register asynchronously)
    expect(Object.keys(declared).sort()).toEqual([
      "xen1-0x5000c500a1b2c3d4",
      "xen1-WD-WCC4N0REPLACE1",
      "xen1-WD-WCC4N0REPLACE2",
      "xen2-ata-ST4000VN008-2DR166_ZDHREPLACE",
    ]);
    expect(declared["xen1-WD-WCC4N0REPLACE2"]).toMatchObject({
      disk: { serial: "WD-WCC4N0REPLACE2" },
      vm: { nameLabel: "media" },
    });
    expect(declared["xen1-0x5000c500a1b2c3d4"]).toMatchObject({
      disk: { wwn: "0x5000c500a1b2c3d4" },
      vm: { nameLabel: "backup" },
      mode: "RO",
    });
    expect(declared["xen2-ata-ST4000VN008-2DR166_ZDHREPLACE"]).toMatchObject({
      disk: { byId: "ata-ST4000VN008-2DR166_ZDHREPLACE" },
      vm: { uuid: "0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d" },
      attach: false,
    });
    for (const disk of disks) {
      expect(typeof disk.inputs["__provider"]).toBe("string");
      // The sample's placeholders have the form the provider's check accepts.
      expect(checkInputs({}, withSecretsRevealed(disk.inputs) as Record<string, unknown>).failures).toEqual(
        [],
      );
    }
  });

  test("connects to each disk's own host, with that host's key and the one secret SSH key", () => {
    const connections = Object.fromEntries(
      result.resources.map((r): [string, unknown] => [
        r.name.split("-")[0] ?? "",
        unwrapSecret(r.inputs["connection"]),
      ]),
    );
    expect(connections["xen1"]).toEqual({
      host: "192.0.2.10",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithTheHostKeyOfXen1",
      privateKey: SSH_KEY,
    });
    expect(connections["xen2"]).toEqual({
      host: "192.0.2.11",
      port: 2222,
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithTheHostKeyOfXen2",
      privateKey: SSH_KEY,
    });
  });

  test("exports every passthrough and the drifted ones", () => {
    const passthroughs = result.outputs["passthroughs"] as Record<string, unknown>;
    expect(Object.keys(passthroughs)).toHaveLength(4);
    expect(passthroughs["xen1-WD-WCC4N0REPLACE1"]).toEqual({
      device: expect.stringMatching(/^xvd[b-e]$/) as unknown,
      vbdUuid: expect.stringMatching(/^00000000-0000-4000-8000-00000000000[1-4]$/) as unknown,
      attached: true,
      drift: [],
    });
    expect(result.outputs["drifted"]).toEqual([]);
  });

  test("keeps the SSH key secret: never in __provider, plain inputs or outputs", () => {
    const plain = JSON.stringify([
      result.resources.map((r) => withoutSecrets(r.inputs)),
      withoutSecrets(result.outputs),
    ]);
    expect(plain).not.toContain("ci-key-material");
    expect(JSON.stringify(result.resources.map((r) => r.inputs))).toContain("ci-key-material");
  });

  test("moving a disk to another VM keeps its name: one replace, the old VBD deleted first", async () => {
    const hosts = sampleHosts();
    const moved = hosts[0]?.vms[0]?.disks.pop();
    hosts[0]?.vms[1]?.disks.push(moved ?? {});
    const after = await run(hosts);
    expect(after.error).toBeUndefined();
    expect(after.resources.map((r) => r.name).sort()).toEqual(result.resources.map((r) => r.name).sort());
    const disk = after.resources.find((r) => r.name === "xen1-WD-WCC4N0REPLACE2");
    expect(disk?.inputs["vm"]).toEqual({ nameLabel: "backup" });
    expect(disk?.options.deleteBeforeReplace).toBe(true);
  });

  test("stacks deployed with host-vm-disk names keep their resources: every former name is an alias", () => {
    const options = (name: string) => result.resources.find((r) => r.name === name)?.options;
    expect(options("xen1-WD-WCC4N0REPLACE1")?.aliasNames).toEqual([
      "xen1-media-WD-WCC4N0REPLACE1",
      "xen1-backup-WD-WCC4N0REPLACE1",
    ]);
    expect(options("xen2-ata-ST4000VN008-2DR166_ZDHREPLACE")?.aliasNames).toEqual([
      "xen2-0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d-ata-ST4000VN008-2DR166_ZDHREPLACE",
    ]);
  });

  test("renames nothing when the lists are reordered", async () => {
    const hosts = sampleHosts().reverse();
    for (const host of hosts) host.vms.reverse();
    const reordered = await run(hosts);
    expect(reordered.resources.map((r) => r.name).sort()).toEqual(result.resources.map((r) => r.name).sort());
  });
});

describe("a broken inventory stops the program before anything is declared", () => {
  const cases: [string, (hosts: Hosts) => unknown, RegExp][] = [
    ["no hosts", () => [], /hosts must be a non-empty list/],
    [
      "a host without its host key",
      (hosts) => (delete hosts[0]?.["hostKey"], hosts),
      /hosts\[0\]\.hostKey must be a non-empty string/,
    ],
    [
      "a disk with two identities",
      (hosts) => (Object.assign(hosts[0]?.vms[0]?.disks[0] ?? {}, { wwn: "0x5000c500a1b2c3d5" }), hosts),
      /hosts\[0\]\.vms\[0\]\.disks\[0\] must set exactly one of serial, wwn, byId/,
    ],
    [
      "a wrong mode",
      (hosts) => (Object.assign(hosts[0]?.vms[1]?.disks[0] ?? {}, { mode: "rw" }), hosts),
      /hosts\[0\]\.vms\[1\]\.disks\[0\]\.mode must be "RW" or "RO"/,
    ],
    [
      "one disk on two VMs",
      (hosts) => (hosts[0]?.vms[1]?.disks.push({ serial: "WD-WCC4N0REPLACE1" }), hosts),
      /xen1: disk \{"serial":"WD-WCC4N0REPLACE1"\} is declared more than once/,
    ],
    [
      "two hosts with one name",
      (hosts) => (Object.assign(hosts[1] ?? {}, { name: "xen1" }), hosts),
      /hosts\[1\]\.name repeats the host name "xen1"/,
    ],
    [
      "a host name unfit for resource names",
      (hosts) => (Object.assign(hosts[0] ?? {}, { name: "xen 1" }), hosts),
      /hosts\[0\]\.name must be letters, digits/,
    ],
  ];
  test.concurrent.each(cases)("%s", async (_label, breakIt, message) => {
    const broken = await run(breakIt(sampleHosts()));
    expect(broken.error).toMatch(message);
    expect(broken.resources).toEqual([]);
  });
});

describe("the project files", () => {
  test("Pulumi.yaml declares the secret key and documents the inventory it cannot type", () => {
    const project = readProjectFile(join(EXAMPLE, "Pulumi.yaml"));
    expect(project.name).toBe(PROJECT);
    expect(project.main).toBe("dist/index.js");
    expect(project.config?.["sshPrivateKey"]).toMatchObject({ type: "string", secret: true });
    expect(configDeclarationProblems(project)).toEqual([]);
    expect(result.configKeysRead).toEqual([`${PROJECT}:hosts`, `${PROJECT}:sshPrivateKey`]);
    const text = readFileSync(join(EXAMPLE, "Pulumi.yaml"), "utf8");
    for (const field of [
      "hosts",
      "address:",
      "hostKey:",
      "nameLabel:",
      "uuid",
      "serial:",
      "wwn",
      "byId",
      "mode:",
      "attach:",
    ]) {
      expect(text).toContain(field);
    }
  });

  test("the CI workflow previews pull requests and runs up --refresh on main, with the token as a secret", () => {
    const text = readFileSync(join(EXAMPLE, "ci-workflow.yml"), "utf8");
    const workflow = yaml.load(text) as {
      on: Record<string, unknown>;
      env: Record<string, string>;
      jobs: Record<
        string,
        {
          steps: {
            name?: string;
            if?: string;
            uses?: string;
            run?: string;
            with?: Record<string, unknown>;
            env?: Record<string, string>;
          }[];
        }
      >;
    };
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(["pull_request", "push"]));
    expect(workflow.env["WORK_DIR"]).toBe("examples/ci-rebuild");
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
    const pulumiSteps = steps.filter((s) => s.uses?.startsWith("pulumi/actions@") === true);
    const preview = pulumiSteps.find((s) => s.with?.["command"] === "preview");
    const up = pulumiSteps.find((s) => s.with?.["command"] === "up");
    expect(preview?.if).toBe("github.event_name == 'pull_request'");
    expect(preview?.with?.["refresh"]).toBeUndefined();
    expect(up?.if).toBe("github.event_name != 'pull_request'");
    expect(up?.with?.["refresh"]).toBe(true);
    // Pulumi Cloud by its token, or a self-managed backend by its URL and passphrase; all secret.
    expect(workflow.env).toMatchObject({
      PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
      PULUMI_BACKEND_URL: "${{ vars.PULUMI_BACKEND_URL }}",
      PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
    });
    // The current Node LTS, whatever it is when the job runs.
    expect(
      steps.find((s) => s.uses?.startsWith("actions/setup-node@") === true)?.with?.["node-version"],
    ).toBe("lts/*");
    // After up --refresh, drift that remains fails the job.
    const check = steps.find((s) => s.run?.includes("pulumi stack output drifted --json") === true);
    expect(check?.if).toBe("github.event_name != 'pull_request'");
    expect(steps.indexOf(check ?? steps[0]!)).toBeGreaterThan(steps.indexOf(up ?? steps[0]!));
    expect(check?.run).toMatch(/!= "\[\]" \]; then[\s\S]*exit 1/);
    // The program is installed and built in its own directory before Pulumi runs it.
    expect(steps.find((s) => s.run === "npm ci")?.["working-directory" as "run"]).toBe("${{ env.WORK_DIR }}");
    const build = steps.findIndex((s) => s.run === "npm run build");
    expect(build).toBeGreaterThan(-1);
    expect(build).toBeLessThan(steps.indexOf(preview ?? steps[0]!));
    // No registry is named: the runner's npm configuration decides.
    expect(text).not.toMatch(/registry|npmjs/i);
  });
});
