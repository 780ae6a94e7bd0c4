// Undo of a create that failed before its VBD existed: nothing of it may stay on the host.
import { messageOf } from "../core/error-base.js";
import type { HostView } from "../core/host-view.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { rulePath as rulePathOf, symlinkName, symlinkPath } from "../core/rule.js";
import type { Log } from "../dom0/remote.js";
import { forgetVdi, vdiAt } from "../xapi/vdi.js";
import type { Changes } from "./changes.js";
import { bootRepairRemoval } from "./remove.js";
import type { HostAccess } from "./connect.js";

/** Best effort: returns what could not be undone, in words (empty when all was undone). */
export async function rollback(
  access: HostAccess,
  view: HostView,
  changes: Changes,
  inputs: PassthroughDiskInputs,
  log: Log,
): Promise<string[]> {
  const { disk: identity, symlinkTimeoutSeconds } = inputs;
  const rulePath = rulePathOf(identity);
  const kernelName = view.disk?.kernelName;
  // A claim this create took (not one it found) is dropped with the rest.
  const claimTaken =
    changes.claimed === true && view.claimOwner !== view.owner && view.claimKey !== undefined;
  if (kernelName === undefined || (!changes.ruleWritten && changes.rulesSetAside.size === 0 && !claimTaken))
    return [];
  log("create failed before the VBD existed: undoing its changes");
  const failures: string[] = [];
  const attempt = async (what: string, action: () => Promise<unknown>) => {
    try {
      await action();
    } catch (error) {
      failures.push(`${what}: ${messageOf(error)}`);
    }
  };
  // The boot repair this create installed (its record; the unit if it was the host's first).
  const repair = view.bootRepair;
  const repairPlanned = repair.status === "missing" || repair.status === "outdated";
  const unclaimed = repairPlanned && !repair.installed ? bootRepairRemoval(view).removeWhenUnclaimed : [];
  // Our rule's link must be gone before the scan below (unless a rule moved back makes it again).
  const name = symlinkName(identity, kernelName, view.wantedNaming);
  const linkGone =
    changes.ruleWritten && changes.rulesSetAside.size === 0
      ? [{ path: symlinkPath(name), timeoutSeconds: symlinkTimeoutSeconds }]
      : [];
  await attempt("undo the rule changes", () =>
    access.batches.udev({
      removes: [
        ...(changes.ruleWritten ? [rulePath] : []),
        ...(repairPlanned && !repair.recordPresent ? [repair.record.path] : []),
      ],
      ...(unclaimed.length === 0 ? {} : { removeWhenUnclaimed: unclaimed }),
      restores: [...changes.rulesSetAside.keys()],
      triggers: [kernelName],
      ...(linkGone.length === 0 ? {} : { waitsGone: linkGone }),
      ...(claimTaken && view.claimKey !== undefined
        ? { release: { key: view.claimKey, owner: view.owner } }
        : {}),
    }),
  );
  const sr = view.sr;
  if (sr !== undefined && view.vdi === undefined) {
    // The VDI appeared during this create: a scan forgets it now that the symlink is gone.
    await attempt("forget the VDI", async () => {
      await access.batches.scan(sr.ref);
      const left = vdiAt(await access.batches.snapshot(), sr.ref, symlinkPath(name));
      if (left !== undefined) await forgetVdi(access.xapi, left.$ref);
    });
  }
  return failures;
}
