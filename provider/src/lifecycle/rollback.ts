// Undo of a create that failed before its VBD existed: nothing of it may stay on the host.
import { symlinkPath } from "../core/rule.js";
import type { Log } from "../dom0/remote.js";
import { vdiAt } from "../xapi/snapshot.js";
import type { Applied } from "./apply.js";
import type { HostAccess, HostView } from "./observe.js";

/** Best effort: returns what could not be undone, in words (empty when all was undone). */
export async function rollback(
  access: HostAccess,
  view: HostView,
  applied: Applied,
  rulePath: string,
  log: Log,
): Promise<string[]> {
  const kernelName = view.disk?.kernelName;
  if (kernelName === undefined || (!applied.ruleCreated && applied.rulesDisabled.size === 0)) return [];
  log("create failed before the VBD existed: undoing its changes");
  const failures: string[] = [];
  const attempt = async (what: string, action: () => Promise<unknown>) => {
    try {
      await action();
    } catch (error) {
      failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  await attempt("undo the rule changes", () =>
    access.batches.udev({
      removes: applied.ruleCreated ? [rulePath] : [],
      restores: [...applied.rulesDisabled.keys()],
      triggers: [kernelName],
    }),
  );
  const sr = view.sr;
  if (sr !== undefined && view.vdi === undefined) {
    // The VDI appeared during this create: a scan forgets it now that the symlink is gone.
    await attempt("forget the VDI", async () => {
      await access.batches.scan(sr.$ref);
      const left = vdiAt(await access.batches.snapshot(), sr.$ref, symlinkPath(kernelName));
      if (left !== undefined) await access.xapi.call("VDI.forget", left.$ref);
    });
  }
  return failures;
}
