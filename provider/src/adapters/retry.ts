/** Backoff between attempts, like Pulumi's retry.Until: 100 ms, x1.5 each time, at most 5 s. */
export const RETRY_FIRST_DELAY_MS = 100;
export const RETRY_BACKOFF = 1.5;
export const RETRY_MAX_DELAY_MS = 5_000;

export interface RetryOptions {
  /** What is attempted, for the log line: "Dial" gives "Dial 3/10 failed: retrying". */
  what: string;
  /** Attempts in all; -1 for no limit. */
  attempts: number;
  /** Errors for which another attempt cannot help (wrong host key, refused credentials). */
  isFinal?: (error: unknown) => boolean;
  log?: (line: string) => void;
  delayMs?: (attempt: number) => number;
}

/** Runs `attempt` until it succeeds, the attempts are used up, or an error is final. */
export async function retry<T>(attempt: (index: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const limit = options.attempts < 0 ? Infinity : Math.max(1, options.attempts);
  const delayMs = options.delayMs ?? backoffDelayMs;
  for (let index = 1; ; index++) {
    try {
      return await attempt(index);
    } catch (error) {
      if (index >= limit || options.isFinal?.(error) === true) throw error;
      options.log?.(`${options.what} ${index}/${limit === Infinity ? "inf" : limit} failed: retrying`);
      await sleep(delayMs(index));
    }
  }
}

export function backoffDelayMs(attempt: number): number {
  return Math.min(RETRY_MAX_DELAY_MS, RETRY_FIRST_DELAY_MS * RETRY_BACKOFF ** (attempt - 1));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
