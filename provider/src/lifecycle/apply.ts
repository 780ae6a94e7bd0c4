// The one executor: runs a plan's parts (core/plan.ts) in order. release (XAPI steps that get
// VBDs of ours off the disk), dom0 (the change as one request of the host's shared udev round,
// dom0-request.ts), attach (the other XAPI steps, xapi-steps.ts), forget (the VDI the SR drops).
// Returns what each part did and the host as the parts left it (after-apply.ts); a failure throws
// ApplyError carrying what was changed by then, or, best effort, is reported and the next part runs.
import { basename } from "node:path/posix";
import type { Dom0Inventory } from "../core/dom0-inventory.js";
import { describeDisk } from "../core/identity.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import type { Dom0Change, Plan, VdiForget } from "../core/plan.js";
import { ownedElsewhere } from "../core/refusals.js";
import type { Log } from "../dom0/remote.js";
import { UdevRoundError } from "../dom0/udev-round-error.js";
import type { UdevOutcome } from "../dom0/udev-round.js";
import type { HostLook } from "../look/host-view.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";
import { forgetVdi, vdiAt } from "../xapi/vdi.js";
import { inventoryAfterChange } from "./after-apply.js";
import { ApplyError, noChanges, type Changes } from "./changes.js";
import type { HostAccess } from "./connect.js";
import { udevRequestOf } from "./dom0-request.js";
import { withProgress } from "./progress.js";
import { runXapiSteps, type XapiStepsResult } from "./xapi-steps.js";

export type PlanPart = keyof Plan;

/** What each part did (undefined: the part was empty, or failed best effort). */
export interface Applied {
  readonly released: XapiStepsResult | undefined;
  readonly dom0: UdevOutcome | undefined;
  readonly attached: XapiStepsResult | undefined;
  /** The VDI the SR forgot. */
  readonly forgot: string | undefined;
  /** dom0 and XAPI's records as the parts left them: no second look needed. */
  readonly inventory: Dom0Inventory;
  readonly snapshot: XapiSnapshot;
  readonly changes: Changes;
}

export interface ApplyOptions {
  /** Best effort (a rollback): a part that fails is reported here and the next part runs. */
  readonly onPartFailure?: (part: PlanPart, error: unknown) => void;
}

/** Runs the plan's parts in order. */
export async function applyPlan(
  access: HostAccess,
  view: HostLook,
  inputs: PassthroughDiskInputs,
  plan: Plan,
  log: Log,
  options: ApplyOptions = {},
): Promise<Applied> {
  const context = { access, view, log };
  const part = async <T>(name: PlanPart, run: () => Promise<T>): Promise<T | undefined> => {
    if (options.onPartFailure === undefined) return run();
    try {
      return await run();
    } catch (error) {
      options.onPartFailure(name, error instanceof ApplyError ? error.cause : error);
      return undefined;
    }
  };
  const released =
    plan.release.length === 0
      ? undefined
      : await part("release", () => runXapiSteps(context, plan.release, noChanges(view.vbd !== undefined)));
  const change = plan.dom0;
  const dom0 =
    change === undefined
      ? undefined
      : await part("dom0", () =>
          applyDom0Change(access, view, inputs, change, log).catch((error: unknown) => {
            // What the release did stays done: a VBD it destroyed is not ours to roll back to.
            if (released !== undefined && error instanceof ApplyError)
              throw new ApplyError({ ...error.changes, pastPointOfNoReturn: true }, { cause: error.cause });
            throw error;
          }),
        );
  const dom0Changes = dom0?.changes ?? noChanges(view.vbd !== undefined);
  const changes = released === undefined ? dom0Changes : { ...dom0Changes, pastPointOfNoReturn: true };
  const attached =
    plan.attach.length === 0
      ? undefined
      : await part("attach", () => runXapiSteps(context, plan.attach, changes, released));
  const forget = plan.forget;
  const forgot =
    forget === undefined ? undefined : await part("forget", () => forgetPart(access, view, forget, log));
  const xapi = attached ?? released;
  return {
    released,
    dom0: dom0?.outcome,
    attached,
    forgot,
    inventory: dom0?.inventory ?? view.inventory,
    snapshot: xapi?.snapshot ?? view.snapshot,
    changes: {
      ...dom0Changes,
      pastPointOfNoReturn: xapi?.pastPointOfNoReturn ?? changes.pastPointOfNoReturn,
    },
  };
}

async function applyDom0Change(
  access: HostAccess,
  view: HostLook,
  inputs: PassthroughDiskInputs,
  change: Dom0Change,
  log: Log,
): Promise<{ inventory: Dom0Inventory; outcome: UdevOutcome; changes: Changes }> {
  const request = udevRequestOf(change);
  if (change.removeRule !== undefined) log(`removing ${change.removeRule}`);
  for (const write of [...(request.writes ?? []), ...(request.installs ?? [])]) log(`writing ${write.path}`);
  const wait = change.awaitLink;
  if (wait !== undefined) log(`waiting up to ${wait.timeoutSeconds} s for udev to create ${wait.path}`);
  // A round that fails half-way may have written the file: it counts as written.
  const ruleWritten = change.writeRule !== undefined && view.ruleText === undefined;
  const claimed = change.claim !== undefined;
  const pastPointOfNoReturn = view.vbd !== undefined;
  try {
    const round = access.batches.udev(request);
    const outcome =
      wait === undefined
        ? await round
        : await withProgress(log, `waiting for udev to link ${basename(wait.path)}`, round, {
            limitSeconds: wait.timeoutSeconds,
          });
    for (const [path, aside] of outcome.disabled)
      log(`took over ${path}: moved it to ${aside} (udev reads only *.rules)`);
    return {
      inventory: inventoryAfterChange(view.inventory, change),
      outcome,
      changes: { ruleWritten, rulesSetAside: outcome.disabled, pastPointOfNoReturn, claimed },
    };
  } catch (cause) {
    // Another resource holds the disk's claim: the round ran nothing of ours.
    if (cause instanceof UdevRoundError && cause.claimedBy !== undefined) {
      throw new ApplyError(noChanges(pastPointOfNoReturn), {
        cause: ownedElsewhere(describeDisk(inputs.disk), cause.claimedBy),
      });
    }
    const rulesSetAside = cause instanceof UdevRoundError ? cause.disabled : new Map<string, string>();
    throw new ApplyError({ ruleWritten, rulesSetAside, pastPointOfNoReturn, claimed }, { cause });
  }
}

/** The SR forgets the VDI; returns its uuid (undefined: a scan no longer lists one). */
async function forgetPart(
  access: HostAccess,
  view: HostLook,
  forget: VdiForget,
  log: Log,
): Promise<string | undefined> {
  if (forget.kind === "knownVdi") {
    const vdi = view.vdi;
    if (vdi === undefined || vdi.uuid !== forget.vdiUuid) return undefined;
    log(`forgetting VDI ${vdi.uuid}`);
    await forgetVdi(access.xapi, vdi.ref);
    return vdi.uuid;
  }
  const sr = view.sr;
  if (sr === undefined) return undefined;
  // The VDI appeared during this run: a scan forgets it now that the symlink is gone.
  await access.batches.scan(sr.ref);
  const left = vdiAt(await access.batches.snapshot(), sr.ref, forget.location);
  if (left === undefined) return undefined;
  await forgetVdi(access.xapi, left.$ref);
  return left.uuid;
}
