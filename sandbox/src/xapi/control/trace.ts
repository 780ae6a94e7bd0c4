/** How a traced call ended. */
export type CallOutcome =
  { status: "success" } | { status: "failure"; code: string; params: string[] } | { status: "dropped" };

/** One call as the trace records it. */
export interface TraceEntry {
  seq: number;
  method: string;
  /** The session ref the call carried ("" for login and other session-less calls). */
  session: string;
  /** The object the call was about, when its first parameter is a reference. */
  ref?: string;
  transport: "tls" | "unix";
  /**
   * Reference of the host whose listener took the call: a pool's hosts share one simulator and
   * one trace, and this tells their calls apart (a member's own socket, or the master's).
   */
  host: string;
  /** Start time, epoch milliseconds. */
  startedAt: number;
  durationMs: number;
  /** Time spent waiting for the method's lock (per VM, per SR, global), when it has one. */
  lockWaitMs?: number;
  outcome: CallOutcome;
}

export interface TraceSnapshot {
  calls: TraceEntry[];
  countsByMethod: Record<string, number>;
  countsBySession: Record<string, number>;
  /** Successful and failed session.login_with_password calls together. */
  logins: number;
}

/** The call trace; cheap enough to stay on in every test. */
export class CallTrace {
  private entries: TraceEntry[] = [];
  private seq = 0;

  record(entry: Omit<TraceEntry, "seq">): void {
    this.seq += 1;
    this.entries.push({ seq: this.seq, ...entry });
  }

  reset(): void {
    this.entries = [];
  }

  snapshot(): TraceSnapshot {
    const countsByMethod: Record<string, number> = {};
    const countsBySession: Record<string, number> = {};
    let logins = 0;
    for (const entry of this.entries) {
      countsByMethod[entry.method] = (countsByMethod[entry.method] ?? 0) + 1;
      if (entry.session !== "") countsBySession[entry.session] = (countsBySession[entry.session] ?? 0) + 1;
      if (entry.method === "session.login_with_password") logins += 1;
    }
    return { calls: this.entries.map((entry) => ({ ...entry })), countsByMethod, countsBySession, logins };
  }
}
