import { InternalError } from "./errors.js";

/**
 * Group commit: requests that arrive while a batch runs (or within `windowMs` of the first)
 * go out together in the next batch, so N concurrent callers cost one round trip, and a lone
 * caller waits at most `windowMs`. A request only ever joins a batch that has not started yet,
 * so it sees everything its caller did before asking.
 *
 * `run` gets the requests of one batch and returns one outcome per request, in order: an Error
 * fails that request alone; a thrown error fails the whole batch.
 */
export class GroupCommit<Request, Result> {
  private pending: { request: Request; resolve: (r: Result) => void; reject: (e: unknown) => void }[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: (requests: readonly Request[]) => Promise<readonly (Result | Error)[]>,
    private readonly windowMs: number,
  ) {}

  submit(request: Request): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.timer !== undefined || this.pending.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.windowMs);
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.running = true;
    try {
      const outcomes = await this.run(batch.map((entry) => entry.request));
      batch.forEach((entry, index) => {
        const outcome = outcomes[index];
        if (outcome instanceof Error) entry.reject(outcome);
        else if (outcome === undefined) entry.reject(new InternalError("a batch returned too few results"));
        else entry.resolve(outcome);
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
