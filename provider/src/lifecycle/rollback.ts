// Undo of a create that failed before its VBD existed: nothing of it may stay on the host.
import { symlinkPath } from "../core/rule.js";
import { retrigger } from "../dom0/rules.js";
import { removeFile } from "../dom0/rules.js";
import type { Log } from "../dom0/remote.js";
import { withArgs } from "../core/shell.js";
import type { Applied } from "./apply.js";
import type { HostAccess, HostView } from "./observe.js";
import { findVdiByLocation } from "../xapi/vdi.js";

const MOVE_BACK = String.raw`set -eu
mv -f -- "$2" "$1"
`;

/** Best effort: returns what could not be undone, in words (empty when all was undone). */
export async function rollback(
  access: HostAccess,
  view: HostView,
  applied: Applied,
  rulePath: string,
  log: Log,
): Promise<string[]> {
  const failures: string[] = [];
  const attempt = async (what: string, action: () => Promise<unknown>) => {
    try {
      await action();
    } catch (error) {
      failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  log("create failed before the VBD existed: undoing its changes");
  if (applied.ruleCreated) await attempt(`remove ${rulePath}`, () => removeFile(access.remote, rulePath));
  for (const [original, aside] of applied.rulesDisabled) {
    await attempt(`restore ${original}`, () => access.remote.run(withArgs(MOVE_BACK, [original, aside])));
  }
  const kernelName = view.disk?.kernelName;
  if (kernelName !== undefined && (applied.ruleCreated || applied.rulesDisabled.size > 0)) {
    await attempt(`re-trigger udev for ${kernelName}`, () => retrigger(access.remote, kernelName));
    const sr = view.sr;
    if (sr !== undefined && view.vdi === undefined) {
      // The VDI was introduced by this create: a scan forgets it now that the symlink is gone.
      await attempt("scan the udev SR", async () => {
        await access.xapi.call("SR.scan", sr.$ref);
        const left = await findVdiByLocation(access.xapi, sr.$ref, symlinkPath(kernelName));
        if (left !== undefined) await access.xapi.call("VDI.forget", left.$ref);
      });
    }
  }
  return failures;
}
