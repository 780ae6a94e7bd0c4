// The homelab example's guest commands, run for real as the guest would run them: the create
// script the program declares (taken from a run under mocks) and its delete script, inside a
// private mount namespace with a private /etc/fstab, on a loop device holding an ext4 file
// system. It shows both promises: the disk comes back after a reboot by its UUID (nofail: a
// missing disk does not fail the mounts), and while the disk is absent nothing can write into the
// mount point, i.e. into the guest's root disk.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runProgramUnderMocks } from "xen-sandbox";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..", "..");

let work: string;
let loop = "";

beforeAll(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), "xen-passthrough-guest-")));
  const image = join(work, "disk.img");
  await run("truncate", ["-s", "16M", image]);
  await run("mkfs.ext4", ["-q", "-L", "media1", image]);
  loop = (await run("losetup", ["-f", "--show", image])).stdout.trim();
}, 60_000);

afterAll(async () => {
  if (loop !== "") await run("losetup", ["-d", loop]);
  if (work === undefined) return;
  // A failed run may leave the mount point immutable.
  await run("chattr", ["-R", "-i", work]).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

test("mounted by UUID with nofail; while the disk is absent the mount point refuses writes; undone cleanly", async () => {
  const mountRoot = join(work, "media");
  const path = join(mountRoot, "disk1");
  const result = await runProgramUnderMocks({
    program: join(ROOT, "examples", "homelab", "dist", "index.js"),
    project: "xen-passthrough-homelab",
    config: {
      host: "192.0.2.10",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfDom0",
      sshPrivateKey: "placeholder",
      vmName: "media",
      diskSerials: ["WD-WCC4N0000001"],
      guestHost: "media.example.net",
      guestHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheGuest",
      sambaPassword: "placeholder",
      mountRoot,
      guestPartition: 0,
    },
    secretKeys: ["sshPrivateKey", "sambaPassword"],
  });
  expect(result.error).toBeUndefined();
  const mount = result.resources.find((r) => r.name === "mount-disk1");
  // The guest's /dev/xvdb is our loop device here.
  const create = (mount?.inputs["create"] as string).replaceAll("/dev/xvdb", loop);
  const remove = mount?.inputs["delete"] as string;
  await writeFile(join(work, "create.sh"), create);
  await writeFile(join(work, "delete.sh"), remove);
  await mkdir(join(work, "etc-changes"));
  await mkdir(join(work, "etc-work"));

  // Everything in a private mount namespace: the host's mounts and /etc/fstab stay untouched.
  const scenario = [
    "set -eu",
    // /etc as an overlay: the scripts' changes land in etc-changes, never in the real /etc.
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${work}/etc-changes,workdir=${work}/etc-work /etc`,
    `echo "# the guest's fstab" > /etc/fstab`,
    `sh ${work}/create.sh`,
    `echo "mounted: $(findmnt -n -o SOURCE ${path})"`,
    `sh ${work}/create.sh`, // twice: one fstab line, still mounted
    `echo "fstab lines: $(grep -c ' ${path} ' /etc/fstab)"`,
    `umount ${path}`, // as after a reboot without the disk
    `if touch ${path}/leak 2>/dev/null; then echo "absent: writable"; else echo "absent: refuses writes"; fi`,
    `mount ${path}`, // by the fstab line, i.e. by UUID
    `echo "remounted: $(findmnt -n -o SOURCE ${path})"`,
    `umount ${path}`,
    `sed -i 's|^UUID=[^ ]*|UUID=00000000-dead-beef-0000-000000000000|' /etc/fstab`, // the disk is gone
    `if mount -a; then echo "missing disk: mount -a succeeds"; else echo "missing disk: mount -a fails"; fi`,
    `sh ${work}/delete.sh`,
    `if mountpoint -q ${path}; then echo "after delete: mounted"; else echo "after delete: unmounted"; fi`,
    `echo "after delete, fstab lines: $(grep -c ' ${path} ' /etc/fstab || true)"`,
    `touch ${path}/allowed && rm ${path}/allowed && echo "after delete: writable"`,
  ].join("\n");
  const { stdout } = await run("unshare", ["-m", "--propagation", "private", "sh", "-c", scenario]);
  const fstab = await readFile(join(work, "etc-changes", "fstab"), "utf8");
  const uuid = (await run("blkid", ["-p", "-s", "UUID", "-o", "value", loop])).stdout.trim();

  expect(stdout.split("\n").filter((line) => line !== "")).toEqual([
    `mounted: ${loop}`,
    "fstab lines: 1",
    "absent: refuses writes",
    `remounted: ${loop}`,
    "missing disk: mount -a succeeds",
    "after delete: unmounted",
    "after delete, fstab lines: 0",
    "after delete: writable",
  ]);
  expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
  expect(fstab).toBe("# the guest's fstab\n");
});
