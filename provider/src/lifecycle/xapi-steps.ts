// The XAPI steps of a plan (core/plan.ts). Each is a function from what the steps before it left (the VDI, the
// VBD, the newest records) to what it leaves, so what a step needs and what it changes is in its
// code, not in a comment: ensureVdi yields the VDI, adoptVbd and createVbd yield our VBD,
// destroyVbd drops it, the others act on it.
import { VBD_GC_WAIT_SECONDS } from "../core/converge-plan.js";
import type { XapiStep } from "../core/plan.js";
import { messageOf } from "../core/error-base.js";
import { HostStateError, InternalError } from "../core/errors.js";
import type { HostLook } from "../look/host-view.js";
import type { Log } from "../dom0/remote.js";
import { xapiErrorCode } from "../xapi/caller.js";
import type { Ref } from "../xapi/records.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";
import {
  awaitVbdCollected,
  awaitVbdsDetached,
  createVbd,
  destroyVbd,
  failedForGoneVdi,
  plugVbd,
  readVbd,
  setVbdBootable,
  tagVbd,
  unplugVbd,
} from "../xapi/vbd.js";
import { vdiAt } from "../xapi/vdi.js";
import { snapshotAfterVbdChanges } from "./after-apply.js";
import { withProgress } from "./progress.js";
import type { HostAccess } from "./connect.js";

/** What a run of XAPI steps leaves: the newest records, and our VBD (undefined: none now). */
export interface XapiStepsResult {
  readonly snapshot: XapiSnapshot;
  readonly vbd: Ref | undefined;
}

/** A step failed: the steps completed before it, and the cause. */
export class XapiStepsError extends Error {
  override readonly name = "XapiStepsError";
  constructor(
    readonly completed: readonly XapiStep[],
    options: { readonly cause: unknown },
  ) {
    super(messageOf(options.cause), options);
  }
}

/** What the XAPI steps so far left. */
interface Progress {
  readonly vdi: Ref | undefined;
  readonly vbd: Ref | undefined;
  readonly destroyed: readonly Ref[];
  /** XAPI's GC removed our VBD during the apply (its VDI went in the scan): nothing to destroy. */
  readonly collected?: boolean;
  readonly snapshot: XapiSnapshot;
}

interface Context {
  readonly access: HostAccess;
  readonly view: HostLook;
  readonly log: Log;
}

type Runner<K extends XapiStep["kind"]> = (
  context: Context,
  step: Extract<XapiStep, { kind: K }>,
  progress: Progress,
) => Promise<Progress>;

const ourVbd = (progress: Progress): Ref => {
  if (progress.vbd === undefined) throw new InternalError("a VBD step ran before the VBD was known");
  return progress.vbd;
};

const RUNNERS: { readonly [K in XapiStep["kind"]]: Runner<K> } = {
  ensureVdi: async ({ access, view, log }, step, progress) => ({
    ...progress,
    ...(await ensureVdi(access, view, progress.snapshot, step.location, log)),
  }),
  adoptVbd: async ({ access, view, log }, step, progress) => {
    const found = [...view.ownVbds, ...view.otherVbds].find((candidate) => candidate.uuid === step.vbdUuid);
    if (found === undefined) throw new InternalError(`VBD ${step.vbdUuid} to adopt is not in the view`);
    log(`tagging VBD ${step.vbdUuid} as owned by ${view.owner}`);
    await tagVbd(access.xapi, found.ref, { tag: view.tag, owner: view.owner }, found);
    return { ...progress, vbd: found.ref };
  },
  unplugVbd: async ({ access, view, log }, _step, progress) => {
    log("unplugging the VBD");
    try {
      await withProgress(log, "waiting for VBD.unplug", unplugVbd(access.xapi, ourVbd(progress)));
    } catch (error) {
      // The scan just now forgot the VBD's old VDI (a renamed disk): the GC window, see waitForGc.
      if (!failedForGoneVdi(error)) throw error;
      return waitForGc(access, log, progress, view.vbd?.uuid ?? "", VBD_GC_WAIT_SECONDS);
    }
    return progress;
  },
  destroyVbd: async ({ access }, _step, progress) => {
    if (progress.collected === true && progress.vbd === undefined) return progress;
    const vbd = ourVbd(progress);
    await destroyVbd(access.xapi, vbd);
    return { ...progress, vbd: undefined, destroyed: [...progress.destroyed, vbd] };
  },
  awaitVbdCollected: ({ access, log }, step, progress) =>
    waitForGc(access, log, progress, step.vbdUuid, step.timeoutSeconds),
  awaitVbdsDetached: async ({ access, view, log }, step, progress) => {
    const refs = view.misplacedVbds.filter((vbd) => step.vbdUuids.includes(vbd.uuid)).map((vbd) => vbd.ref);
    const what = `another resource's VBD (${step.vbdUuids.join(", ")}) is plugged on this disk: waiting for its own repair to unplug it`;
    log(what);
    const detached = await withProgress(
      log,
      what,
      awaitVbdsDetached(access.xapi, refs, step.timeoutSeconds),
      {
        limitSeconds: step.timeoutSeconds,
      },
    );
    if (!detached) {
      throw new HostStateError(
        "DISK_PLUGGED_BY_OTHER_RESOURCE",
        { vbds: step.vbdUuids.join(",") },
        `the disk is still plugged through VBD ${step.vbdUuids.join(", ")} of another PassthroughDisk after ` +
          `${step.timeoutSeconds} s (two disks swapped kernel names): run \`pulumi up\` for both resources; ` +
          "this one's VBD is on the right disk and plugs once the other is gone",
      );
    }
    return progress;
  },
  removeOwnVbds: async ({ access, view, log }, step, progress) => {
    for (const uuid of step.leftToGc)
      log(`VBD ${uuid} refers to a VDI that is gone: XAPI's database GC removes it`);
    const removed = await Promise.all(
      step.vbds.map(async ({ uuid, unplug }) => {
        const vbd = view.ownVbds.find((candidate) => candidate.uuid === uuid);
        if (vbd === undefined) throw new InternalError(`VBD ${uuid} to remove is not in the view`);
        if (unplug) {
          log(`unplugging VBD ${uuid}`);
          await withProgress(log, `waiting for VBD.unplug of ${uuid}`, unplugVbd(access.xapi, vbd.ref));
        }
        await destroyVbd(access.xapi, vbd.ref);
        return vbd.ref;
      }),
    );
    const vbd = progress.vbd !== undefined && removed.includes(progress.vbd) ? undefined : progress.vbd;
    return { ...progress, vbd, destroyed: [...progress.destroyed, ...removed] };
  },
  setVmAffinity: async ({ access, view, log }, _step, progress) => {
    if (view.vm === undefined) throw new InternalError("setVmAffinity without the VM");
    const vm = view.vm.ref;
    log(`setting the VM's affinity to host "${view.hostName}" (setAffinity: true)`);
    await access.xapi.call("VM.set_affinity", vm, view.hostRef);
    const vms = progress.snapshot.vms.map((record) =>
      record.$ref === vm ? { ...record, affinity: view.hostRef } : record,
    );
    return { ...progress, snapshot: { ...progress.snapshot, vms } };
  },
  createVbd: async ({ access, view, log }, step, progress) => {
    if (view.vm === undefined || progress.vdi === undefined)
      throw new InternalError("createVbd without VM or VDI");
    log("creating the VBD");
    const vbd = await createVbd(
      access.xapi,
      { vm: view.vm.ref, vdi: progress.vdi, tag: view.tag, owner: view.owner },
      step,
    );
    return { ...progress, vbd };
  },
  setVbdBootable: async ({ access }, step, progress) => {
    await setVbdBootable(access.xapi, ourVbd(progress), step.bootable);
    return progress;
  },
  plugVbd: async ({ access, view, log }, _step, progress) => {
    log("plugging the VBD into the running VM");
    // Plugs into one VM run one after another (xenopsd queues per VM): this one may wait.
    try {
      await withProgress(log, "waiting for VBD.plug", plugVbd(access.xapi, ourVbd(progress)));
    } catch (error) {
      // The device vanished from dom0 after the look; its VDI record is left (xapi-project/sm
      // udevSR attach fails SR_BACKEND_FAILURE_46 "The VDI is not available").
      if (xapiErrorCode(error) !== "SR_BACKEND_FAILURE_46") throw error;
      throw new HostStateError(
        "DEVICE_NOT_PRESENT",
        { host: view.hostUuid, location: view.vdi?.location ?? "" },
        `the disk ${view.disk?.kernelName === undefined ? "" : `/dev/${view.disk.kernelName} `}is not present on host ` +
          `"${view.hostName}" (${view.hostUuid}): XAPI cannot plug it (SR_BACKEND_FAILURE_46, the VDI is not available). ` +
          "Check that the disk is connected, then run this again",
        { cause: error },
      );
    }
    return progress;
  },
};

/** Steps after which our VBD's record is read again. */
const VBD_STEPS: ReadonlySet<XapiStep["kind"]> = new Set([
  "adoptVbd",
  "unplugVbd",
  "createVbd",
  "setVbdBootable",
  "plugVbd",
]);

function run(context: Context, step: XapiStep, progress: Progress): Promise<Progress> {
  // Each kind goes to its own runner; the cast only joins the union back to that runner's type.
  const runner = RUNNERS[step.kind] as Runner<XapiStep["kind"]>;
  return runner(context, step, progress);
}

/**
 * Runs the steps in order; returns the newest records, with our VBD re-read after its last
 * change. A failure throws XapiStepsError with the steps completed by then.
 */
export async function runXapiSteps(
  context: Context,
  steps: readonly XapiStep[],
  /** Where steps run earlier in the same apply left our VBD and the records. */
  start?: XapiStepsResult,
): Promise<XapiStepsResult> {
  const { view, access, log } = context;
  let progress: Progress = {
    vdi: view.vdi?.ref,
    vbd: start === undefined ? view.vbd?.ref : start.vbd,
    destroyed: [],
    snapshot: start?.snapshot ?? view.snapshot,
  };
  let completed = 0;
  try {
    for (const step of steps) {
      progress = await run(context, step, progress);
      completed += 1;
    }
    const changedVbd = steps.some((step) => VBD_STEPS.has(step.kind));
    const reread =
      changedVbd && progress.vbd !== undefined ? await readVbd(access.xapi, progress.vbd) : undefined;
    if (reread !== undefined) {
      const plugged = reread.currently_attached ? `plugged as ${reread.device}` : "not plugged";
      log(`VBD ${reread.uuid}: userdevice ${reread.userdevice}, ${plugged}`);
    }
    const snapshot = snapshotAfterVbdChanges(progress.snapshot, { destroyed: progress.destroyed, reread });
    return { snapshot, vbd: progress.vbd };
  } catch (cause) {
    throw new XapiStepsError(steps.slice(0, completed), { cause });
  }
}

/**
 * Waits for XAPI's database GC to drop our plugged VBD whose VDI is gone: XAPI refuses to unplug
 * (even unplug_force) or destroy it meanwhile (core/converge-plan.ts removeVbdSteps says why).
 */
async function waitForGc(
  access: HostAccess,
  log: Log,
  progress: Progress,
  vbdUuid: string,
  timeoutSeconds: number,
): Promise<Progress> {
  const vbd = ourVbd(progress);
  const what = `VBD ${vbdUuid} is plugged but its VDI is gone: waiting for XAPI's database GC to remove it`;
  log(what);
  const collected = await withProgress(log, what, awaitVbdCollected(access.xapi, vbd, timeoutSeconds), {
    limitSeconds: timeoutSeconds,
  });
  if (!collected) {
    throw new HostStateError(
      "VBD_NOT_COLLECTED",
      { vbd: vbdUuid },
      `VBD ${vbdUuid} refers to a VDI that is gone and XAPI's database GC did not remove it ` +
        `within ${timeoutSeconds} s (XAPI refuses to unplug or destroy it meanwhile): run this again later`,
    );
  }
  return { ...progress, vbd: undefined, collected: true, destroyed: [...progress.destroyed, vbd] };
}

/**
 * The VDI at `location`: dom0's local-device-change introduces it on a udev add event; after a
 * change event (our trigger) one scan of the SR, shared by concurrent resources, lists it.
 */
async function ensureVdi(
  access: HostAccess,
  view: HostLook,
  before: XapiSnapshot,
  location: string,
  log: Log,
): Promise<{ vdi: Ref } | { vdi: Ref; snapshot: XapiSnapshot }> {
  const sr = view.sr;
  if (sr === undefined) throw new InternalError("ensureVdi without the udev SR (refusals.ts checks it)");
  if (view.vdi?.location === location) return { vdi: view.vdi.ref };
  await withProgress(log, `waiting for the scan of SR "${sr.nameLabel}"`, access.batches.scan(sr.ref));
  // The scan changed VDIs (and maybe VBDs, through XAPI's GC): the rest is as the look saw it.
  const snapshot = { ...before, ...(await access.batches.diskRecords()) };
  const scanned = vdiAt(snapshot, sr.ref, location);
  if (scanned === undefined) {
    throw new HostStateError(
      "VDI_NOT_LISTED",
      { sr: sr.uuid, location },
      `SR "${sr.nameLabel}" (${sr.uuid}) lists no VDI for ${location} after a scan: ` +
        "check that the SR's location is /dev/xapi/block and that the symlink resolves to a block device",
    );
  }
  return { vdi: scanned.$ref, snapshot };
}
