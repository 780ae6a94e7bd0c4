// The one executor: runs a plan's parts (core/plan.ts) in order. release (XAPI steps that get
// VBDs of ours off the disk), dom0 (the change as one request of the host's shared udev round,
// dom0-request.ts), attach (the other XAPI steps, xapi-steps.ts), forget (the VDI the SR drops).
// Returns what each part did and the host as the parts left it (after-apply.ts); a failure throws
// ApplyError carrying what was changed by then, or, best effort, is reported and the next part runs.
import { basename } from "node:path/posix";
import type { Dom0Inventory } from "../core/dom0-inventory.js";
import { messageOf } from "../core/error-base.js";
import { describeDisk } from "../core/identity.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import type { Dom0Change, Plan, VdiForget, XapiStep } from "../core/plan.js";
import { ownedElsewhere } from "../core/refusals.js";
import type { Log } from "../dom0/remote.js";
import { UdevRoundError } from "../dom0/udev-round-error.js";
import type { UdevOutcome } from "../dom0/udev-round.js";
import type { HostLook } from "../look/host-view.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";
import { forgetVdi, vdiAt } from "../xapi/vdi.js";
import { inventoryAfterChange } from "./after-apply.js";
import { ApplyError, NO_CHANGES, type Changes } from "./changes.js";
import type { HostAccess } from "./connect.js";
import { udevRequestOf } from "./dom0-request.js";
import { withProgress } from "./progress.js";
import { runXapiSteps, XapiStepsError, type XapiStepsResult } from "./xapi-steps.js";

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

/** XAPI steps after which a VBD is ours. */
const MAKES_VBD: ReadonlySet<XapiStep["kind"]> = new Set(["adoptVbd", "createVbd"]);

/** What the parts before a failed one did. */
interface Before {
  readonly foundVbd: boolean;
  readonly released: boolean;
  readonly changes: Changes;
}

/**
 * A part's failure as ApplyError: what dom0 changed, and whether the apply is past the point of no
 * return, read from what the parts did: the look found our VBD, the release got one off the disk
 * (not ours to bring back) or a step adopted or created one. Other errors pass as they are.
 */
function failureOf(error: unknown, before: Before): unknown {
  const completed = error instanceof XapiStepsError ? error.completed : [];
  const past = before.foundVbd || before.released || completed.some((step) => MAKES_VBD.has(step.kind));
  if (error instanceof XapiStepsError) return new ApplyError(before.changes, past, { cause: error.cause });
  if (error instanceof Dom0ChangeError) return new ApplyError(error.changes, past, { cause: error.cause });
  return error;
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
  const part = async <T>(name: PlanPart, run: () => Promise<T>, before: Before): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      const failed = failureOf(error, before);
      if (options.onPartFailure === undefined) throw failed;
      options.onPartFailure(name, failed instanceof ApplyError ? failed.cause : failed);
      return undefined;
    }
  };
  const foundVbd = view.vbd !== undefined;
  const released =
    plan.release.length === 0
      ? undefined
      : await part("release", () => runXapiSteps(context, plan.release), {
          foundVbd,
          released: false,
          changes: NO_CHANGES,
        });
  const change = plan.dom0;
  const afterRelease = { foundVbd, released: released !== undefined, changes: NO_CHANGES };
  const dom0 =
    change === undefined
      ? undefined
      : await part("dom0", () => applyDom0Change(access, view, inputs, change, log), afterRelease);
  const changes = dom0?.changes ?? NO_CHANGES;
  const afterDom0 = { ...afterRelease, changes };
  const attached =
    plan.attach.length === 0
      ? undefined
      : await part("attach", () => runXapiSteps(context, plan.attach, released), afterDom0);
  const forget = plan.forget;
  const forgot =
    forget === undefined
      ? undefined
      : await part("forget", () => forgetPart(access, view, forget, log), afterDom0);
  return {
    released,
    dom0: dom0?.outcome,
    attached,
    forgot,
    inventory: dom0?.inventory ?? view.inventory,
    snapshot: (attached ?? released)?.snapshot ?? view.snapshot,
    changes,
  };
}

/** The dom0 part failed: what it had changed by then. */
class Dom0ChangeError extends Error {
  override readonly name = "Dom0ChangeError";
  constructor(
    readonly changes: Changes,
    options: { readonly cause: unknown },
  ) {
    super(messageOf(options.cause), options);
  }
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
      changes: { ruleWritten, rulesSetAside: outcome.disabled, claimed },
    };
  } catch (cause) {
    // Another resource holds the disk's claim: the round ran nothing of ours.
    if (cause instanceof UdevRoundError && cause.claimedBy !== undefined) {
      throw new Dom0ChangeError(NO_CHANGES, {
        cause: ownedElsewhere(describeDisk(inputs.disk), cause.claimedBy),
      });
    }
    const rulesSetAside = cause instanceof UdevRoundError ? cause.disabled : new Map<string, string>();
    throw new Dom0ChangeError({ ruleWritten, rulesSetAside, claimed }, { cause });
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
