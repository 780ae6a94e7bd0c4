// dom0's xe for USB passthrough against the XAPI simulator over its local Unix socket, as a user
// at the host runs it: pusb-list, pusb-param-set passthrough-enabled=, pusb-scan, usb-group-list,
// vusb-create, vusb-list, vusb-unplug, vusb-destroy, in xe's output formats.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_USB_DEVICE } from "xen-sandbox";
import { parseXeArgs } from "xen-sandbox/dist/dom0/xe/args";
import { runXeCommand } from "xen-sandbox/dist/dom0/xe/commands";
import type { XeOutput } from "xen-sandbox/dist/dom0/xe/commands";
import { ocamlFloat } from "xen-sandbox/dist/dom0/xe/fields";
import { XapiCallError, withSession } from "xen-sandbox/dist/dom0/xe/rpc";
import { useXapiSimulator } from "./xapi-fixture";

const sim = useXapiSimulator({
  model: { vms: [{ nameLabel: "home-assistant", powerState: "Halted" }] },
});
let dir = "";
let socket = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "xp-xe-usb-"));
  socket = join(dir, "xapi");
  await sim().listenUnix(socket);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One xe invocation: its output, or the XAPI error xe would print ("CODE: params"). */
async function xe(...argv: string[]): Promise<XeOutput> {
  const invocation = parseXeArgs(argv);
  if ("error" in invocation) throw new Error(invocation.error);
  try {
    return await withSession(socket, (call) => runXeCommand(call, invocation));
  } catch (error) {
    if (!(error instanceof XapiCallError)) throw error;
    return { stdout: "", stderr: `${error.code}: ${error.params.join(", ")}`, exitCode: 1 };
  }
}

const minimal = async (...argv: string[]) => (await xe(...argv, "--minimal")).stdout.trim();

test("speeds print as OCaml's string_of_float does", () => {
  expect([12, 480, 1.5, -1, 5000].map(ocamlFloat)).toEqual(["12.", "480.", "1.5", "-1.", "5000."]);
});

test("pusb-list shows xe's default fields; usb-group-list the group; passthrough-enabled takes only true or false", async () => {
  const pusb = await minimal("pusb-list");
  const listed = await xe("pusb-list");
  expect(listed.stdout).toBe(
    [
      `uuid ( RO)            : ${pusb}`,
      "            path ( RO): 1-2",
      "      product-id ( RO): ea60",
      "    product-desc ( RO): CP210x UART Bridge",
      "       vendor-id ( RO): 10c4",
      "     vendor-desc ( RO): Silicon Labs",
      `          serial ( RO): ${DEFAULT_USB_DEVICE.serial}`,
      "         version ( RO): 2.00",
      `     description ( RO): Silicon Labs_CP210x UART Bridge_${DEFAULT_USB_DEVICE.serial}`,
      "           speed ( RO): 12.",
      "",
      "",
      "",
    ].join("\n"),
  );
  const group = await minimal("pusb-list", `uuid=${pusb}`, "params=usb-group-uuid");
  expect(await minimal("usb-group-list", `PUSB-uuids=${pusb}`)).toBe(group);
  expect((await xe("usb-group-list", `uuid=${group}`)).stdout).toContain(
    "name-label ( RW): Group of 10c4 ea60 USBs",
  );

  expect(await xe("pusb-param-set", `uuid=${pusb}`, "passthrough-enabled=yes")).toEqual({
    stdout: "",
    stderr: "Error: Failed to parse parameter 'passthrough-enabled': expecting a boolean (true or false)\n",
    exitCode: 1,
  });
  expect(await minimal("pusb-param-get", `uuid=${pusb}`, "param-name=passthrough-enabled")).toBe("false");
  expect((await xe("pusb-param-set", `uuid=${pusb}`, "passthrough-enabled=true")).exitCode).toBe(0);
  expect(await minimal("pusb-list", "passthrough-enabled=true")).toBe(pusb);
  expect((await xe("pusb-param-set", `uuid=${pusb}`, "serial=x")).stderr).toBe(
    "Field 'serial' is read-only.\n",
  );
});

test("vusb-create prints the uuid; vusb-list, vusb-unplug and vusb-destroy act on it, with XAPI's errors", async () => {
  const vm = await minimal("vm-list", "name-label=home-assistant");
  const group = await minimal("usb-group-list");
  const created = await xe("vusb-create", `usb-group-uuid=${group}`, `vm-uuid=${vm}`);
  const vusb = created.stdout.trim();
  expect(created).toEqual({ stdout: `${vusb}\n`, stderr: "", exitCode: 0 });
  expect((await xe("vusb-list")).stdout).toBe(
    [
      `uuid ( RO)              : ${vusb}`,
      `           vm-uuid ( RO): ${vm}`,
      `    usb-group-uuid ( RO): ${group}`,
      "",
      "",
      "",
    ].join("\n"),
  );
  expect(await minimal("vusb-list", `vm-uuid=${vm}`, "params=currently-attached")).toBe("false");
  expect(await minimal("vusb-list", `uuid=${vusb}`, "params=allowed-operations")).toBe("attach");

  const vmRef = sim()
    .control.state()
    .vms.find((each) => each.uuid === vm)?.ref;
  expect((await xe("vusb-unplug", `uuid=${vusb}`)).stderr).toBe(
    `VM_BAD_POWER_STATE: ${vmRef}, running, halted`,
  );
  expect(await xe("vusb-create", `usb-group-uuid=${group}`, `vm-uuid=${vm}`)).toMatchObject({ exitCode: 1 });
  expect((await xe("vusb-create", `vm-uuid=${vm}`)).stderr).toBe(
    "Required parameter not found: usb-group-uuid\n",
  );

  // This xe stand-in has no vm-start: start the VM over the API.
  await withSession(socket, async (call) => call("VM.start", await call("VM.get_by_uuid", vm), false, false));
  expect(await minimal("vusb-list", `uuid=${vusb}`, "params=currently-attached")).toBe("true");
  expect(await xe("vusb-destroy", `uuid=${vusb}`)).toMatchObject({
    stderr: `OPERATION_NOT_ALLOWED: VUSB '${vusb}' still attached to '${vm}'`,
  });
  expect(await xe("vusb-unplug", `uuid=${vusb}`)).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  expect(await minimal("vusb-list", `uuid=${vusb}`, "params=currently-attached")).toBe("false");
  expect(await xe("vusb-destroy", `uuid=${vusb}`)).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  expect(await minimal("vusb-list")).toBe("");
});

test("pusb-scan makes a plugged stick's PUSB appear (once the scan has run) and a pulled one's go", async () => {
  const host = sim().host.uuid;
  sim().control.usb.move(host, "1-2", { path: "1-3" });
  expect(await xe("pusb-scan", `host-uuid=${host}`)).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  let paths = "";
  for (let attempt = 0; attempt < 100 && paths !== "1-3"; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    paths = await minimal("pusb-list", "params=path");
  }
  expect(paths).toBe("1-3");
  expect(await minimal("pusb-list", "params=passthrough-enabled")).toBe("false");
  expect((await xe("pusb-scan")).stderr).toBe("Required parameter not found: host-uuid\n");
});
