// Python's standard xmlrpc.client (what XenAPI.py is built on) against the simulator over TLS,
// verifying the simulator's certificate through its PEM as the only trusted CA.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { useXapiSimulator } from "./xapi-fixture";

const sim = useXapiSimulator();
const script = join(__dirname, "..", "..", "unit", "python", "xapi_xmlrpc_client.py");

test("xmlrpc.client logs in, reads records, and sees XAPI's failure shapes", async () => {
  const dir = await mkdtemp(join(tmpdir(), "xp-xapi-python-"));
  try {
    const cafile = join(dir, "xapi.pem");
    await writeFile(cafile, sim().certificatePem);
    const { stdout } = await promisify(execFile)("python3", [script], {
      env: {
        ...process.env,
        XAPI_URL: sim().url,
        XAPI_USER: sim().username,
        XAPI_PASSWORD: sim().password,
        XAPI_CAFILE: cafile,
      },
    });
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    const archive = sim().vms.find((vm) => vm.nameLabel === "archive");
    expect(archive).toBeDefined();
    expect(seen).toMatchObject({
      session_prefix: "OpaqueRef",
      power_state: "Running",
      allowed_devices: ["1", "2"],
      // XAPI sends ints as decimal strings over XML-RPC.
      virtual_size_type: "str",
      virtual_size: 20 * 1024 ** 3,
      shutdown_halted: {
        Status: "Failure",
        ErrorDescription: ["VM_BAD_POWER_STATE", expect.stringMatching(/^OpaqueRef:/), "running", "halted"],
      },
      bad_arity: {
        Status: "Failure",
        ErrorDescription: ["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_record", "1", "0"],
      },
      after_logout: {
        Status: "Failure",
        ErrorDescription: ["SESSION_INVALID", expect.stringMatching(/^OpaqueRef:/)],
      },
      untrusted_rejected: true,
    });
    expect((seen["bad_session"] as { ErrorDescription: string[] }).ErrorDescription[0]).toBe(
      "SESSION_INVALID",
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
