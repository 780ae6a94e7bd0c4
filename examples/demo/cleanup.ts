// Everything the demo starts is registered here the moment it starts (before it is up), so
// that a failure or Ctrl-C at any point stops it again, newest first, exactly once.

export class Cleanup {
  private readonly actions: { readonly label: string; readonly run: () => Promise<void> }[] = [];
  private done: Promise<string[]> | undefined;

  /** Registers an action; `label` names it in failure messages ("stop the sandbox"). */
  defer(label: string, run: () => Promise<void>): void {
    this.actions.push({ label, run });
  }

  /** Runs every action once (later calls wait for the first); resolves with failure messages. */
  run(): Promise<string[]> {
    this.done ??= this.runAll();
    return this.done;
  }

  private async runAll(): Promise<string[]> {
    const failures: string[] = [];
    for (const action of [...this.actions].reverse()) {
      try {
        await action.run();
      } catch (error) {
        failures.push(`could not ${action.label}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failures;
  }
}

/** Calls `handler` once at the first SIGINT or SIGTERM; later signals are ignored (cleanup runs). */
export function onStopSignal(handler: (signal: NodeJS.Signals) => void): void {
  let seen = false;
  const once = (signal: NodeJS.Signals) => {
    if (seen) return;
    seen = true;
    handler(signal);
  };
  process.on("SIGINT", once);
  process.on("SIGTERM", once);
}
