// The engine runs resources in parallel: four disks on one host must all end attached, over one
// SSH connection and one XAPI login for the whole provider process.
import { useEngine } from "../support/engine";
import { connectionTo, useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 4 });
const engine = useEngine();

test("four disks created at once on one host share one SSH connection and one XAPI login", async () => {
  const connection = connectionTo(sandbox());
  const control = sandbox().simulator.control;
  control.trace.reset();
  const connectionsBefore = sandbox().sshConnections();

  const disks = sandbox().disks.filter((d) => !d.inUse);
  expect(disks).toHaveLength(4);
  const created = await Promise.all(
    disks.map((disk) =>
      engine().create({ connection, disk: { serial: disk.serial }, vm: { nameLabel: "media-server" } }),
    ),
  );

  expect(created.map((c) => c.state["currentlyAttached"])).toEqual([true, true, true, true]);
  const devices = created.map((c) => String(c.state["device"]));
  expect(new Set(devices).size).toBe(4);
  expect(control.trace.get().logins).toBe(1);
  expect(sandbox().sshConnections() - connectionsBefore).toBe(1);

  await Promise.all(created.map((c) => engine().destroy(c)));
  expect(control.state().vbds.filter((vbd) => vbd.otherConfig["xen-passthrough"] !== undefined)).toEqual([]);
  expect(control.trace.get().logins).toBe(1);
  expect(sandbox().sshConnections() - connectionsBefore).toBe(1);
});
