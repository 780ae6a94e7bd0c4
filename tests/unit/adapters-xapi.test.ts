// XapiSession over direct HTTPS against the XAPI simulator: certificate trust (CA, pinned
// fingerprint, explicit opt-out), XAPI errors as XapiError, the retry table, pool members.
import { startXapiSimulator } from "xen-sandbox";
import type { XapiSimulator } from "xen-sandbox";
import {
  SettingError,
  TlsFingerprintError,
  XAPI_ORIGINATOR,
  XapiError,
  XapiSession,
} from "#provider/adapters/index.js";
import type { XapiDirect } from "#provider/core/inputs.js";
import { withXapiDefaults } from "#provider/core/inputs.js";

type HttpsXapiSettings = XapiDirect & { ca?: string };
import { CLI_SETTING_NAMES } from "#provider/cli/connection.js";
import { useXapiSimulator } from "./xapi-fixture";

const sim = useXapiSimulator();

function settings(simulator: XapiSimulator, extra: Partial<HttpsXapiSettings>): HttpsXapiSettings {
  return withXapiDefaults({
    url: simulator.url,
    username: simulator.username,
    password: simulator.password,
    ...extra,
  });
}

async function withSession<T>(
  extra: Partial<HttpsXapiSettings>,
  use: (xapi: XapiSession) => Promise<T>,
): Promise<T> {
  const xapi = await XapiSession.open({ kind: "https", ...settings(sim(), extra) });
  try {
    return await use(xapi);
  } finally {
    await xapi.close();
  }
}

afterEach(() => sim().control.faults.clear());

describe("certificate trust", () => {
  it("verifies the certificate against a given CA", async () => {
    const vms = await withSession({ ca: sim().certificatePem }, (xapi) => xapi.call<string[]>("VM.get_all"));
    expect(vms.length).toBe(sim().control.state().vms.length);
  });

  it("refuses a certificate no CA vouches for, naming the target", async () => {
    await expect(XapiSession.open({ kind: "https", ...settings(sim(), {}) })).rejects.toThrow(
      `failed to open a verified TLS connection to ${new URL(sim().url).host}: self-signed certificate`,
    );
  });

  it("accepts the pinned fingerprint, with colons or as bare lower-case hex", async () => {
    const pinned = sim().tlsFingerprint;
    await withSession({ tlsFingerprint: pinned }, (xapi) => xapi.call("VM.get_all"));
    const bare = pinned.replace(/:/g, "").toLowerCase();
    await withSession({ tlsFingerprint: bare }, (xapi) => xapi.call("VM.get_all"));
  });

  it("refuses another fingerprint, showing the one seen", async () => {
    sim().control.trace.reset();
    const error: unknown = await XapiSession.open({
      kind: "https",
      ...settings(sim(), { tlsFingerprint: "AB".repeat(32) }),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TlsFingerprintError);
    expect((error as TlsFingerprintError).seen).toBe(sim().tlsFingerprint);
    expect((error as Error).message).toContain(`the server presented SHA-256 ${sim().tlsFingerprint}`);
    expect(sim().control.trace.get().logins).toBe(0);
  });

  it("refuses a fingerprint that is not SHA-256, naming the setting", async () => {
    const opening = XapiSession.open({ kind: "https", ...settings(sim(), { tlsFingerprint: "AB:CD" }) });
    await expect(opening).rejects.toThrow('xapi.tlsFingerprint "AB:CD" is not a SHA-256 fingerprint');
    await expect(opening).rejects.toBeInstanceOf(SettingError);
  });

  it("accepts any certificate only when allowUnauthorized is set", async () => {
    await withSession({ allowUnauthorized: true }, (xapi) => xapi.call("VM.get_all"));
  });

  it("refuses plain http, which would send the password in clear", async () => {
    const url = sim().url.replace("https:", "http:");
    await expect(XapiSession.open({ kind: "https", ...settings(sim(), { url }) })).rejects.toThrow(
      "must use https",
    );
  });
});

describe("calls and errors", () => {
  const pinned = () => ({ tlsFingerprint: sim().tlsFingerprint });

  it("logs in once with our originator, counts calls, and logs out on close", async () => {
    sim().control.trace.reset();
    const sessionsBefore = sim().control.state().sessions;
    const xapi = await XapiSession.open({ kind: "https", ...settings(sim(), pinned()) });
    await xapi.call("VM.get_all");
    await xapi.call("host.get_all");
    expect(xapi.stats).toEqual({ logins: 1, calls: 2 });
    expect(sim().control.state().sessions).toBe(sessionsBefore + 1);
    const login = sim()
      .control.trace.get()
      .calls.find((call) => call.method === "session.login_with_password");
    expect(login).toBeDefined();
    await xapi.close();
    expect(sim().control.state().sessions).toBe(sessionsBefore);
    expect(sim().control.trace.get().logins).toBe(1);
    expect(XAPI_ORIGINATOR).toBe("xen-passthrough");
  });

  it("reports XAPI failures as XapiError with code and params", async () => {
    const error: unknown = await withSession(pinned(), (xapi) =>
      xapi.call("VM.get_record", "OpaqueRef:nope"),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(XapiError);
    expect(error).toMatchObject({
      name: "XapiError",
      code: "HANDLE_INVALID",
      params: ["VM", "OpaqueRef:nope"],
    });
    expect((error as Error).message).toBe("VM.get_record failed: HANDLE_INVALID [VM, OpaqueRef:nope]");
  });

  it("does not repeat a call whose failure is not in the retry table", async () => {
    sim().control.faults.add({
      method: "VM.get_all",
      action: { error: { code: "VM_BAD_POWER_STATE", params: ["a", "b"] } },
    });
    sim().control.trace.reset();
    await withSession(pinned(), async (xapi) => {
      await expect(xapi.call("VM.get_all")).rejects.toMatchObject({ code: "VM_BAD_POWER_STATE" });
    });
    expect(sim().control.trace.get().countsByMethod["VM.get_all"]).toBe(1);
  });

  it("logs in again once when the session turns invalid, then repeats the call", async () => {
    await withSession(pinned(), async (xapi) => {
      sim().control.faults.add({
        method: "VM.get_all",
        action: { error: { code: "SESSION_INVALID", params: ["OpaqueRef:x"] } },
        count: 1,
      });
      const vms = await xapi.call<string[]>("VM.get_all");
      expect(vms.length).toBeGreaterThan(0);
      expect(xapi.stats).toEqual({ logins: 2, calls: 1 });
    });
  });

  it("repeats a call refused with OTHER_OPERATION_IN_PROGRESS", async () => {
    await withSession(pinned(), async (xapi) => {
      sim().control.faults.add({
        method: "VM.get_all",
        action: { error: { code: "OTHER_OPERATION_IN_PROGRESS", params: ["VM", "OpaqueRef:x"] } },
        count: 1,
      });
      sim().control.trace.reset();
      await xapi.call("VM.get_all");
      expect(sim().control.trace.get().countsByMethod["VM.get_all"]).toBe(2);
    });
  });

  it("waits out HOST_STILL_BOOTING within the call's time bound, then says the master may be down and what to do", async () => {
    sim().control.faults.add({
      method: "session.login_with_password",
      action: { error: { code: "HOST_STILL_BOOTING", params: [] } },
    });
    sim().control.trace.reset();
    const started = Date.now();
    const error: unknown = await XapiSession.open(
      { kind: "https", ...settings(sim(), pinned()) },
      // Room for one repeat 3 s later, not for a third attempt: the bound wins over the 65 attempts.
      { callTimeoutMs: 4_000 },
    ).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(XapiError);
    expect(error).toMatchObject({ code: "HOST_STILL_BOOTING", params: [] });
    const message = (error as Error).message;
    expect(message).toMatch(/^session\.login_with_password failed: HOST_STILL_BOOTING \[\]\. /);
    expect(message).toMatch(/answered it 2 time\(s\) over [34] s/);
    expect(message).toContain("emergency mode because it cannot reach its pool master");
    expect(message).toContain("Check that the pool master is up and reachable from this host");
    expect(message).toContain("then run the operation again");
    expect(sim().control.trace.get().logins).toBe(2);
  });

  it("repeats a call answered HOST_STILL_BOOTING until the host answers", async () => {
    await withSession(pinned(), async (xapi) => {
      sim().control.faults.add({
        method: "VM.get_all",
        action: { error: { code: "HOST_STILL_BOOTING", params: [] } },
        count: 1,
      });
      sim().control.trace.reset();
      expect((await xapi.call<string[]>("VM.get_all")).length).toBeGreaterThan(0);
      expect(sim().control.trace.get().countsByMethod["VM.get_all"]).toBe(2);
    });
  });

  it("logs in again for a session that died while the call waited out HOST_STILL_BOOTING", async () => {
    await withSession(pinned(), async (xapi) => {
      // A member in emergency mode, then its master back with no session left.
      sim().control.faults.add({
        method: "VM.get_all",
        action: { error: { code: "HOST_STILL_BOOTING", params: [] } },
        count: 1,
      });
      sim().control.faults.add({
        method: "VM.get_all",
        action: { error: { code: "SESSION_INVALID", params: ["OpaqueRef:x"] } },
        count: 1,
      });
      sim().control.trace.reset();
      expect((await xapi.call<string[]>("VM.get_all")).length).toBeGreaterThan(0);
      expect(sim().control.trace.get().countsByMethod["VM.get_all"]).toBe(3);
      expect(xapi.stats).toEqual({ logins: 2, calls: 1 });
    });
  });

  it("says which credentials to check, never showing the password", async () => {
    const error: unknown = await XapiSession.open({
      kind: "https",
      ...settings(sim(), { ...pinned(), password: "wrong-secret" }),
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "SESSION_AUTHENTICATION_FAILED" });
    expect((error as Error).message).toContain("Check xapi.username and xapi.password");
    expect((error as Error).message).not.toContain("wrong-secret");
  });
});

describe("a pool member", () => {
  it("refuses the login naming the master and the xapi.url to set", async () => {
    const member = await startXapiSimulator({ masterAddress: "10.0.0.1" });
    try {
      const error: unknown = await XapiSession.open({
        kind: "https",
        ...settings(member, { tlsFingerprint: member.tlsFingerprint }),
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(XapiError);
      expect(error).toMatchObject({ code: "HOST_IS_SLAVE", params: ["10.0.0.1"] });
      expect((error as Error).message).toContain('Set xapi.url to "https://10.0.0.1"');
      expect(member.control.trace.get().logins).toBe(1);
    } finally {
      await member.stop();
    }
  });

  it("words the hint with the caller's names: the CLI's flags for the CLI", async () => {
    const member = await startXapiSimulator({ masterAddress: "10.0.0.1" });
    try {
      const endpoint = {
        kind: "https" as const,
        ...settings(member, { tlsFingerprint: member.tlsFingerprint }),
      };
      const error: unknown = await XapiSession.open(endpoint, { names: CLI_SETTING_NAMES }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: "HOST_IS_SLAVE" });
      expect((error as Error).message).toContain('Set --xapi-url to "https://10.0.0.1"');
      expect((error as Error).message).not.toContain("xapi.url");
    } finally {
      await member.stop();
    }
  });
});
