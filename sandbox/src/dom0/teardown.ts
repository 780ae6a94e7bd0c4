/**
 * Undo steps recorded while starting, run in reverse order. Used both for a normal stop
 * and to roll back a start that failed half-way, so the two paths cannot drift apart.
 */
export class Teardown {
  private readonly steps: { label: string; undo: () => Promise<void> | void }[] = [];

  defer(label: string, undo: () => Promise<void> | void): void {
    this.steps.push({ label, undo });
  }

  /** Runs every step even when some fail; throws one AggregateError naming the failed steps. */
  async run(): Promise<void> {
    const failures: Error[] = [];
    for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
      try {
        await step.undo();
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures.push(new Error(`teardown step "${step.label}" failed: ${reason}`, { cause: error }));
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(failures, failures.map((failure) => failure.message).join("; "));
    }
  }
}
