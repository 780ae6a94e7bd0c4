// The benchmark's counts: a pool's one trace split by the host whose listener took each call.
import { join } from "node:path";
import type * as CountsModule from "../../bench/dist/counts";

// Loaded from the compiled benchmark: tests/dist and bench/dist sit side by side at run time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { countByHost, perHostText } = require(
  join(__dirname, "..", "..", "..", "bench", "dist", "counts.js"),
) as typeof CountsModule;

const login = (host: string) => ({ method: "session.login_with_password", host });
const call = (host: string, method = "VBD.plug") => ({ method, host });
const ssh = (hostRef: string, sshConnections: number, sshExecs: number) => ({
  hostRef,
  sshConnections,
  sshExecs,
});

describe("countByHost", () => {
  test("each call counts on its own host; logins apart from other calls", () => {
    const counts = countByHost(
      [ssh("OpaqueRef:a", 1, 2), ssh("OpaqueRef:b", 1, 3)],
      [
        login("OpaqueRef:a"),
        call("OpaqueRef:a"),
        call("OpaqueRef:b"),
        login("OpaqueRef:b"),
        call("OpaqueRef:b"),
      ],
    );
    expect(counts.perHost).toEqual([
      { sshConnections: 1, sshExecs: 2, xapiLogins: 1, xapiCalls: 2 },
      { sshConnections: 1, sshExecs: 3, xapiLogins: 1, xapiCalls: 3 },
    ]);
    expect(counts.total).toEqual({ sshConnections: 2, sshExecs: 5, xapiLogins: 2, xapiCalls: 5 });
  });

  test("a host with no traffic counts zero", () => {
    const counts = countByHost([ssh("OpaqueRef:a", 0, 0)], []);
    expect(counts.perHost).toEqual([{ sshConnections: 0, sshExecs: 0, xapiLogins: 0, xapiCalls: 0 }]);
  });

  test("a call through a host the benchmark does not know is an error, not lost", () => {
    expect(() => countByHost([ssh("OpaqueRef:a", 1, 1)], [call("OpaqueRef:a"), call("OpaqueRef:z")])).toThrow(
      /1 XAPI call\(s\) came through hosts the benchmark does not know: OpaqueRef:z/,
    );
  });
});

describe("perHostText", () => {
  test("connections/logins of each host, in order", () => {
    const counts = countByHost(
      [ssh("OpaqueRef:a", 1, 1), ssh("OpaqueRef:b", 2, 1), ssh("OpaqueRef:c", 1, 1)],
      [login("OpaqueRef:a"), login("OpaqueRef:b"), login("OpaqueRef:b")],
    );
    expect(perHostText(counts.perHost)).toBe("1/1 2/2 1/0");
  });

  test("one host: a dash (the total columns already say it)", () => {
    expect(perHostText([{ sshConnections: 1, sshExecs: 1, xapiLogins: 1, xapiCalls: 9 }])).toBe("-");
  });
});
