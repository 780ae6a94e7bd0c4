/**
 * How long calls take: every call pays `baseLatencyMs` (± `jitterMs`), logins pay the login
 * cost of their listener, and some methods pay extra time *while holding their lock* (so plugs on
 * one VM queue behind each other, as xenopsd's per-VM queue makes them on a real host).
 */
export interface ServiceTimeProfile {
  name: string;
  baseLatencyMs: number;
  jitterMs: number;
  /** Login cost: "remote" is a TLS login through PAM, "local" a Unix-socket superuser login. */
  loginMs: { remote: number; local: number };
  /** At most this many remote logins run at once (XAPI's PAM worker pool); 0 = unlimited. */
  maxConcurrentRemoteLogins: number;
  /** Extra service time per method (e.g. "VBD.plug"), spent under the method's lock. */
  methodExtraMs: Record<string, number>;
  /** event.from waits this long once changes are pending, so that it returns them in one batch. */
  eventBatchMs: number;
}

/** Default: no delays at all, for fast tests. */
export const zeroProfile: ServiceTimeProfile = {
  name: "zero",
  baseLatencyMs: 0,
  jitterMs: 0,
  loginMs: { remote: 0, local: 0 },
  maxConcurrentRemoteLogins: 0,
  methodExtraMs: {},
  eventBatchMs: 0,
};

/**
 * Values from docs/timing.md where a public figure exists; "choice" marks values for
 * which no public figure was found (kept here, in one place, so they are easy to revisit).
 */
export const realisticProfile: ServiceTimeProfile = {
  name: "realistic",
  // fact: ~12–15 ms per call in a 500-call stress on a 1-VM host (xen-api PR #6114).
  baseLatencyMs: 12,
  jitterMs: 3,
  loginMs: {
    // choice: PAM authentication of a remote login; no public figure found.
    remote: 150,
    // choice: a Unix-socket login skips PAM; one ordinary call's worth.
    local: 12,
  },
  // fact: XAPI runs at most 8 PAM logins at once by default.
  maxConcurrentRemoteLogins: 8,
  methodExtraMs: {
    // fact: "The VBD.plug call usually takes under 2 seconds" (xapi-project/sm PR #285); ~1 s chosen.
    "VBD.plug": 1000,
    // choice: unplug assumed as slow as plug (same xenopsd queue and backend teardown).
    "VBD.unplug": 1000,
    "VBD.unplug_force": 1000,
    // choice: no public figure for SR.scan, VDI.introduce or SM start-up.
    "SR.scan": 500,
    "VDI.introduce": 200,
    "VDI.forget": 50,
    // choice: guest boot/shutdown, only for drift scenarios.
    "VM.start": 3000,
    "VM.clean_shutdown": 3000,
    "VM.hard_shutdown": 1000,
  },
  // fact: event.from batches with 50 ms delays.
  eventBatchMs: 50,
};

export const profiles: Record<string, ServiceTimeProfile> = {
  zero: zeroProfile,
  realistic: realisticProfile,
};

/** Base latency of one call, jitter included; `random` is injectable for deterministic tests. */
export function baseLatency(profile: ServiceTimeProfile, random: () => number = Math.random): number {
  if (profile.baseLatencyMs <= 0 && profile.jitterMs <= 0) return 0;
  const jitter = (random() * 2 - 1) * profile.jitterMs;
  return Math.max(0, profile.baseLatencyMs + jitter);
}
