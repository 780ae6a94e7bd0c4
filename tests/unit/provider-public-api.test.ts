// The package's public surface: exactly the resource at run time, and types that accept what
// users already have (a @pulumi/command connection).
import type { types } from "@pulumi/command";
import * as pkg from "pulumi-xen-passthrough";
import type { Output } from "@pulumi/pulumi";
import type { ConnectionArgs, ObservedState, PassthroughDiskArgs } from "pulumi-xen-passthrough";

/** Compile-time check: the first type is assignable to the second. */
function assignable<_From extends To, To>(): true {
  return true;
}

test("index exports the resources and nothing internal", () => {
  expect(Object.keys(pkg).sort()).toEqual(["PassthroughDisk", "PassthroughUsb"]);
  expect(typeof pkg.PassthroughDisk).toBe("function");
  expect(typeof pkg.PassthroughUsb).toBe("function");
});

test("a @pulumi/command 1.2 connection can be passed as the connection", () => {
  expect(assignable<types.input.remote.ConnectionArgs, ConnectionArgs>()).toBe(true);
  const fromCommand: types.input.remote.ConnectionArgs = { host: "xen1", proxy: { host: "bastion" } };
  const args: PassthroughDiskArgs = {
    connection: fromCommand,
    disk: { serial: "S1" },
    vm: { nameLabel: "nas" },
  };
  expect(args.connection).toBe(fromCommand);
});

test("disk and vm take exactly one identity (a second one does not compile)", () => {
  // @ts-expect-error two identities at once are refused by the type, as by check
  const twoDisks: PassthroughDiskArgs["disk"] = { serial: "S1", wwn: "0x5000c500a1b2c3d4" };
  // @ts-expect-error mode is "RW" or "RO"
  const badMode: PassthroughDiskArgs["mode"] = "rw";
  expect([twoDisks, badMode]).toHaveLength(2);
});

test("the outputs are typed from their one description, as users had them", () => {
  type Disk = InstanceType<typeof pkg.PassthroughDisk>;
  expect(assignable<Disk["hostUuid"], Output<string>>()).toBe(true);
  expect(assignable<Output<string>, Disk["device"]>()).toBe(true);
  expect(assignable<Disk["drift"], Output<string[]>>()).toBe(true);
  expect(assignable<Disk["observed"], Output<ObservedState>>()).toBe(true);
  expect(assignable<Disk["sizeBytes"], Output<number>>()).toBe(true);
  expect(assignable<Disk["currentlyAttached"], Output<boolean>>()).toBe(true);
});
