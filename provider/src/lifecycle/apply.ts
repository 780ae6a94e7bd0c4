// Runs the steps planConverge chose. The dom0 steps (rule files, trigger, wait for the symlink)
// come first and go out as one request of the host's shared udev round; the XAPI steps follow in
// order (xapi-steps.ts). Returns the host as the steps left it (after-apply.ts) and what they
// changed; a failure throws ApplyError carrying what was changed by then.
import { basename } from "node:path/posix";
import { BOOT_REPAIR_SCRIPT_PATH, BOOT_REPAIR_UNIT, BOOT_REPAIR_WANTS } from "../core/boot-repair.js";
import { isDom0Step, type Dom0Step, type Step, type XapiStep } from "../core/converge-plan.js";
import { InternalError } from "../core/errors.js";
import { viewOf, type HostLook } from "../look/host-view.js";
import { describeDisk } from "../core/identity.js";
import { ownedElsewhere } from "../core/refusals.js";
import type { Dom0Inventory } from "../core/dom0-inventory.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { BOOT_REPAIR_SCRIPT, BOOT_REPAIR_UNIT_TEXT } from "../dom0/boot-repair.js";
import type { Log } from "../dom0/remote.js";
import { UdevRoundError } from "../dom0/udev-round-error.js";
import type { UdevRequest } from "../dom0/udev-round.js";
import { inventoryAfterRound } from "./after-apply.js";
import { ApplyError, noChanges, type Changes } from "./changes.js";
import type { HostAccess } from "./connect.js";
import { withProgress } from "./progress.js";
import { runXapiSteps } from "./xapi-steps.js";

/** Pure: the dom0 steps as one udev request. */
export function udevRequestOf(steps: readonly Step[]): UdevRequest {
  const claim = steps.find((step): step is Extract<Step, { kind: "claim" }> => step.kind === "claim");
  const request = {
    ...(claim === undefined
      ? {}
      : {
          claim: {
            key: claim.key,
            owner: claim.owner,
            ...(claim.previous === undefined ? {} : { previous: claim.previous }),
          },
        }),
    writes: [] as { path: string; text: string }[],
    disables: [] as string[],
    triggers: [] as string[],
  };
  const waits: { path: string; timeoutSeconds: number; kernelName: string }[] = [];
  const installs: { path: string; text: string; executable: boolean }[] = [];
  const links: { path: string; target: string }[] = [];
  for (const step of steps) {
    if (step.kind === "installBootRepair") {
      installs.push({ ...step.record, executable: false });
      // The script before the unit, the unit before the link that enables it.
      if (step.unitAndScript) {
        installs.push({ path: BOOT_REPAIR_SCRIPT_PATH, text: BOOT_REPAIR_SCRIPT, executable: true });
        installs.push({ path: BOOT_REPAIR_UNIT, text: BOOT_REPAIR_UNIT_TEXT, executable: false });
        links.push({ path: BOOT_REPAIR_WANTS, target: BOOT_REPAIR_UNIT });
      }
    }
    if (step.kind === "writeRule") request.writes.push({ path: step.path, text: step.text });
    // Only others' rules are planned for removal (adopt): set aside, never deleted.
    if (step.kind === "removeRule") request.disables.push(step.path);
    if (step.kind === "reloadAndTrigger") request.triggers.push(step.kernelName);
    if (step.kind === "waitSymlink")
      waits.push({ path: step.path, timeoutSeconds: step.timeoutSeconds, kernelName: step.kernelName });
  }
  return {
    ...request,
    waits,
    ...(installs.length === 0 ? {} : { installs }),
    ...(links.length === 0 ? {} : { links }),
  };
}

/** Applies the steps; returns the host as they left it (no second look needed) and what changed. */
export async function applySteps(
  access: HostAccess,
  view: HostLook,
  inputs: PassthroughDiskInputs,
  steps: readonly Step[],
  log: Log,
): Promise<{ readonly view: HostLook; readonly changes: Changes }> {
  // The plan's shape (core/converge-plan.ts): XAPI steps that release our VBD, dom0, the rest.
  const firstDom0Step = steps.findIndex(isDom0Step);
  const lastDom0Step = steps.length - 1 - [...steps].reverse().findIndex(isDom0Step);
  const isXapi = (step: Step): step is XapiStep => !isDom0Step(step);
  const release = firstDom0Step === -1 ? [] : steps.slice(0, firstDom0Step).filter(isXapi);
  const dom0Steps = firstDom0Step === -1 ? [] : steps.slice(firstDom0Step, lastDom0Step + 1);
  const xapiSteps = (firstDom0Step === -1 ? steps : steps.slice(lastDom0Step + 1)).filter(isXapi);
  if (!dom0Steps.every(isDom0Step)) throw new InternalError("an XAPI step was planned among the dom0 steps");
  const context = { access, view, log };
  const released =
    release.length > 0 ? await runXapiSteps(context, release, noChanges(view.vbd !== undefined)) : undefined;
  const dom0 =
    dom0Steps.length > 0
      ? await applyDom0Steps(access, view, inputs, dom0Steps.filter(isDom0Step), log).catch(
          (error: unknown) => {
            // What the release did stays done: a VBD it destroyed is not ours to roll back to.
            if (released !== undefined && error instanceof ApplyError)
              throw new ApplyError({ ...error.changes, pastPointOfNoReturn: true }, { cause: error.cause });
            throw error;
          },
        )
      : { inventory: view.inventory, changes: noChanges(view.vbd !== undefined) };
  const changes = released === undefined ? dom0.changes : { ...dom0.changes, pastPointOfNoReturn: true };
  const xapi = await runXapiSteps(context, xapiSteps, changes, released);
  return {
    view: viewOf(
      dom0.inventory,
      xapi.snapshot,
      inputs,
      view.previousOwner === undefined ? undefined : { owner: view.previousOwner },
    ),
    changes: { ...dom0.changes, pastPointOfNoReturn: xapi.pastPointOfNoReturn },
  };
}

async function applyDom0Steps(
  access: HostAccess,
  view: HostLook,
  inputs: PassthroughDiskInputs,
  steps: readonly Dom0Step[],
  log: Log,
): Promise<{ inventory: Dom0Inventory; changes: Changes }> {
  const request = udevRequestOf(steps);
  for (const write of [...(request.writes ?? []), ...(request.installs ?? [])]) log(`writing ${write.path}`);
  const waits = request.waits ?? [];
  for (const wait of waits) log(`waiting up to ${wait.timeoutSeconds} s for udev to create ${wait.path}`);
  // A round that fails half-way may have written the file: it counts as written.
  const ruleWritten = (request.writes ?? []).length > 0 && view.ruleText === undefined;
  const pastPointOfNoReturn = view.vbd !== undefined;
  try {
    const round = access.batches.udev(request);
    const [wait] = waits;
    const outcome =
      wait === undefined
        ? await round
        : await withProgress(log, `waiting for udev to link ${basename(wait.path)}`, round, {
            limitSeconds: wait.timeoutSeconds,
          });
    for (const [path, aside] of outcome.disabled)
      log(`took over ${path}: moved it to ${aside} (udev reads only *.rules)`);
    return {
      inventory: inventoryAfterRound(view.inventory, request, outcome),
      changes: {
        ruleWritten,
        rulesSetAside: outcome.disabled,
        pastPointOfNoReturn,
        claimed: request.claim !== undefined,
      },
    };
  } catch (cause) {
    // Another resource holds the disk's claim: the round ran nothing of ours.
    if (cause instanceof UdevRoundError && cause.claimedBy !== undefined) {
      throw new ApplyError(noChanges(pastPointOfNoReturn), {
        cause: ownedElsewhere(describeDisk(inputs.disk), cause.claimedBy),
      });
    }
    const rulesSetAside = cause instanceof UdevRoundError ? cause.disabled : new Map<string, string>();
    throw new ApplyError(
      { ruleWritten, rulesSetAside, pastPointOfNoReturn, claimed: request.claim !== undefined },
      { cause },
    );
  }
}
