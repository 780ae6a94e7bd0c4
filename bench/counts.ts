/**
 * Pure: the remote work of one command, per host and all hosts together. SSH counts come from
 * each host's sshd log; XAPI counts from the simulators' traces, where each call names the host
 * whose listener took it (a pool's hosts share one trace: it is read once and split by host).
 */

/** Remote work counted on one host, or on all hosts together. */
export interface Counts {
  sshConnections: number;
  sshExecs: number;
  xapiLogins: number;
  xapiCalls: number;
}

/** The counts of one command: all hosts together, and each host in the layout's order. */
export interface CountsByHost {
  readonly total: Counts;
  readonly perHost: readonly Counts[];
}

/** One host's sshd counts since counting started, and its reference in its simulator. */
export interface HostSshCounts {
  readonly hostRef: string;
  readonly sshConnections: number;
  readonly sshExecs: number;
}

/** What the counts need of a traced XAPI call. */
export interface TracedCall {
  readonly method: string;
  readonly host: string;
}

const LOGIN_METHOD = "session.login_with_password";

export const NO_COUNTS: Counts = { sshConnections: 0, sshExecs: 0, xapiLogins: 0, xapiCalls: 0 };

export function countByHost(hosts: readonly HostSshCounts[], calls: readonly TracedCall[]): CountsByHost {
  const perHost = hosts.map((host): Counts => {
    const own = calls.filter((call) => call.host === host.hostRef);
    return {
      sshConnections: host.sshConnections,
      sshExecs: host.sshExecs,
      xapiLogins: own.filter((call) => call.method === LOGIN_METHOD).length,
      xapiCalls: own.length,
    };
  });
  const unattributed = calls.filter((call) => !hosts.some((host) => host.hostRef === call.host));
  if (unattributed.length > 0) {
    const names = [...new Set(unattributed.map((call) => call.host))].join(", ");
    throw new Error(
      `${unattributed.length} XAPI call(s) came through hosts the benchmark does not know: ${names}`,
    );
  }
  return { total: perHost.reduce(addCounts, NO_COUNTS), perHost };
}

export function addCounts(a: Counts, b: Counts): Counts {
  return {
    sshConnections: a.sshConnections + b.sshConnections,
    sshExecs: a.sshExecs + b.sshExecs,
    xapiLogins: a.xapiLogins + b.xapiLogins,
    xapiCalls: a.xapiCalls + b.xapiCalls,
  };
}

/**
 * SSH connections and XAPI logins of each host, "conn/login" joined by spaces ("1/1 1/1 1/1"),
 * or "-" for one host (the total columns say it already).
 */
export function perHostText(perHost: readonly Counts[]): string {
  if (perHost.length < 2) return "-";
  return perHost.map((counts) => `${counts.sshConnections}/${counts.xapiLogins}`).join(" ");
}
