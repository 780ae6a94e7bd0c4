// adopt: a passthrough made by hand the usual way (udev rule, sr-scan, xe vbd-create/plug) is
// refused by default and taken over with adopt: true, keeping its VBD's slot and setting the
// hand-made rule aside (nothing is deleted).
import { useEngine } from "../support/engine";
import { connectionTo, useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 1 });
const engine = useEngine();
const HAND_RULE = "/etc/udev/rules.d/99-my-passthrough.rules";

async function sh(command: string): Promise<string> {
  const result = await sandbox().exec(command);
  if (result.exitCode !== 0) throw new Error(`${command} failed (${result.exitCode}): ${result.stderr}`);
  return result.stdout.trim();
}

test("a hand-made passthrough is refused without adopt and taken over with it", async () => {
  const disk = sandbox().disks.find((d) => !d.inUse);
  if (disk === undefined) throw new Error("no free disk");
  const vm = sandbox().vms.find((v) => v.nameLabel === "media-server");
  await sh(
    `echo 'KERNEL=="${disk.kernelName}", SUBSYSTEM=="block", ACTION=="add|change", SYMLINK+="xapi/block/%k"' > ${HAND_RULE}`,
  );
  await sh(
    `udevadm control --reload && udevadm trigger --action=change --sysname-match=${disk.kernelName} && udevadm settle`,
  );
  const sr = await sh("xe sr-list type=udev sm-config:type=block params=uuid --minimal");
  await sh(`xe sr-scan uuid=${sr}`);
  const vdi = await sh(`xe vdi-list location=/dev/xapi/block/${disk.kernelName} params=uuid --minimal`);
  const vbd = await sh(`xe vbd-create vm-uuid=${vm?.uuid} vdi-uuid=${vdi} device=autodetect`);
  await sh(`xe vbd-plug uuid=${vbd}`);

  const connection = connectionTo(sandbox());
  const args = { connection, disk: { serial: disk.serial }, vm: { nameLabel: "media-server" } };
  await expect(engine().create(args)).rejects.toThrow(
    new RegExp(`already passed through by ${HAND_RULE}.*adopt: true`),
  );

  const slot = await sh(`xe vbd-param-get uuid=${vbd} param-name=userdevice`);
  const adopted = await engine().create({ ...args, adopt: true });
  expect(adopted.state["currentlyAttached"]).toBe(true);
  // This host's udev SR resolves symlinks (sm 3.2.3): the adopted passthrough moves to the stable
  // name, so its VDI (location = the symlink) is a new one and its VBD is made again, in the same
  // slot. Where kernel names stay (sm 2.x) the VBD and VDI are kept as they are.
  expect((adopted.state["observed"] as Record<string, unknown>)["symlinkNaming"]).toBe("stable");
  expect(adopted.state["vdiUuid"]).not.toBe(vdi);
  const state = sandbox().simulator.control.state();
  expect(state.vbds.find((v) => v.uuid === adopted.state["vbdUuid"])?.userdevice).toBe(slot);
  expect(state.vbds.filter((v) => v.uuid === vbd)).toEqual([]);
  expect(await sh(`ls ${HAND_RULE}.disabled-by-xen-passthrough`)).toBe(
    `${HAND_RULE}.disabled-by-xen-passthrough`,
  );
  expect((await sandbox().exec(`test -e ${HAND_RULE}`)).exitCode).not.toBe(0);
  // The outputs, derived from the first look and the adoption, are what a fresh look sees.
  expect((await engine().refresh(adopted))?.state).toEqual(adopted.state);

  await engine().destroy(adopted);
  expect(
    sandbox()
      .simulator.control.state()
      .vbds.filter((v) => v.uuid === vbd),
  ).toEqual([]);
});
