/**
 * XAPI failures where repeating the call is right, in one place. XAPI refused these calls
 * before doing anything, so a repeat cannot do the work twice. Domain-specific recoveries
 * (VBD_NOT_UNPLUGGABLE, VM_BAD_POWER_STATE...) belong to the lifecycle, not here.
 */
export interface XapiRetryRule {
  readonly code: string;
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly delayMs: number;
  /** A step before the next attempt. */
  readonly recovery?: "login-again";
  readonly why: string;
}

export const XAPI_RETRY_RULES: readonly XapiRetryRule[] = [
  {
    code: "SESSION_INVALID",
    attempts: 2,
    delayMs: 0,
    recovery: "login-again",
    why: "the session expired or XAPI restarted: log in again, then repeat",
  },
  {
    code: "OTHER_OPERATION_IN_PROGRESS",
    attempts: 10,
    delayMs: 1_000,
    why: "another operation (an SR scan, a plug) holds the object for a moment",
  },
  {
    // A pool member that started while its master was down answers this for every call until
    // its XAPI restarts, 60 s plus up to 120 s later (xen-api xapi.ml
    // server_run_in_emergency_mode, xapi_globs.ml emergency_reboot_delay_base / _extra): 65
    // attempts 3 s apart outlast that. Every rule's repeats stop once the next attempt would start
    // past operationTimeout from the first (XapiSession.mayRepeat), whatever the count.
    code: "HOST_STILL_BOOTING",
    attempts: 65,
    delayMs: 3_000,
    why: "XAPI is up but the host is still starting (or waits for its pool master)",
  },
];

export function retryRuleFor(code: string): XapiRetryRule | undefined {
  return XAPI_RETRY_RULES.find((rule) => rule.code === code);
}
