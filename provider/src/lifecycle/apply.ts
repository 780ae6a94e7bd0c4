// Runs the steps planConverge chose. The dom0 steps (rule files, trigger, wait for the symlink)
// come first and go out as one request of the host's shared udev round; the XAPI steps follow in
// order, keeping "the VDI" and "the VBD" as they go. Records what changed, for rollback, and
// returns the host as the steps left it (after-apply.ts).
import type { Step } from "../core/converge-plan.js";
import type { PassthroughDiskInputs } from "../core/inputs.js";
import type { UdevRequest } from "../dom0/udev-round.js";
import type { Log } from "../dom0/remote.js";
import type { Ref } from "../xapi/records.js";
import type { XapiSnapshot } from "../xapi/snapshot.js";
import { NO_REMOVABLE_STORAGE_SR, vdiAt } from "../xapi/snapshot.js";
import { createVbd, destroyVbd, plugVbd, readVbd, tagVbd, unplugVbd } from "../xapi/vbd.js";
import { inventoryAfterRound, snapshotAfterVbdChanges } from "./after-apply.js";
import { viewOf, type HostAccess, type HostView } from "./observe.js";

/** What one run of the steps changed on the host. */
export interface Applied {
  /** Our rule file was written where none existed. */
  ruleCreated: boolean;
  /** Rules of others set aside (adopt): original path -> where it went. */
  rulesDisabled: ReadonlyMap<string, string>;
  /** The VBD exists (created or adopted): from here on, failures keep partial state. */
  vbdExists: boolean;
}

const DOM0_STEPS = new Set<Step["kind"]>(["writeRule", "removeRule", "reloadAndTrigger", "waitSymlink"]);
/** Steps after which our VBD's record is read again. */
const VBD_STEPS = new Set<Step["kind"]>(["adoptVbd", "unplugVbd", "createVbd", "setVbdBootable", "plugVbd"]);

/** Pure: the dom0 steps as one udev request. */
export function udevRequestOf(steps: readonly Step[]): UdevRequest {
  const request = {
    writes: [] as { path: string; text: string }[],
    disables: [] as string[],
    triggers: [] as string[],
  };
  const waits: { path: string; timeoutSeconds: number }[] = [];
  for (const step of steps) {
    if (step.kind === "writeRule") request.writes.push({ path: step.path, text: step.text });
    // Only others' rules are planned for removal (adopt): set aside, never deleted.
    if (step.kind === "removeRule") request.disables.push(step.path);
    if (step.kind === "reloadAndTrigger") request.triggers.push(step.kernelName);
    if (step.kind === "waitSymlink") waits.push({ path: step.path, timeoutSeconds: step.timeoutSeconds });
  }
  return { ...request, waits };
}

/** Applies the steps; returns the host as they left it (no second look needed). */
export async function applySteps(
  access: HostAccess,
  view: HostView,
  inputs: PassthroughDiskInputs,
  steps: readonly Step[],
  log: Log,
  applied: Applied,
): Promise<HostView> {
  const firstXapiStep = steps.findIndex((step) => !DOM0_STEPS.has(step.kind));
  const dom0Steps = firstXapiStep === -1 ? steps : steps.slice(0, firstXapiStep);
  const xapiSteps = firstXapiStep === -1 ? [] : steps.slice(firstXapiStep);
  if (xapiSteps.some((step) => DOM0_STEPS.has(step.kind))) {
    throw new Error("internal error: a dom0 step was planned after an XAPI step");
  }
  const inventory =
    dom0Steps.length > 0 ? await applyDom0Steps(access, view, dom0Steps, log, applied) : view.inventory;
  const snapshot = await applyXapiSteps(access, view, xapiSteps, log, applied);
  return viewOf(inventory, snapshot, inputs);
}

async function applyDom0Steps(
  access: HostAccess,
  view: HostView,
  steps: readonly Step[],
  log: Log,
  applied: Applied,
) {
  const request = udevRequestOf(steps);
  for (const write of request.writes ?? []) log(`writing ${write.path}`);
  for (const wait of request.waits ?? [])
    log(`waiting up to ${wait.timeoutSeconds} s for udev to create ${wait.path}`);
  // Marked before the round: a round that fails half-way may have written the file.
  applied.ruleCreated = (request.writes ?? []).length > 0 && view.ruleText === undefined;
  const outcome = await access.batches.udev(request);
  applied.rulesDisabled = outcome.disabled;
  for (const [path, aside] of outcome.disabled)
    log(`took over ${path}: moved it to ${aside} (udev reads only *.rules)`);
  return inventoryAfterRound(view.inventory, request, outcome);
}

/** Runs the XAPI steps; returns the newest records, with our VBD re-read after its last change. */
async function applyXapiSteps(
  access: HostAccess,
  view: HostView,
  steps: readonly Step[],
  log: Log,
  applied: Applied,
): Promise<XapiSnapshot> {
  const { xapi } = access;
  let snapshot = view.snapshot;
  let vdi: Ref | undefined = view.vdi?.$ref;
  let vbd: Ref | undefined = findVbdRef(view, view.observation.vbd?.uuid);
  const destroyed: Ref[] = [];
  const requireVbd = (): Ref => {
    if (vbd === undefined) throw new Error("internal error: a VBD step ran before the VBD was known");
    return vbd;
  };

  for (const step of steps) {
    switch (step.kind) {
      case "ensureVdi": {
        const found = await ensureVdi(access, view, step.location);
        vdi = found.vdi;
        snapshot = found.snapshot ?? snapshot;
        break;
      }
      case "adoptVbd":
        vbd = findVbdRef(view, step.vbdUuid);
        log(`adopting VBD ${step.vbdUuid}`);
        await tagVbd(xapi, requireVbd(), view.tag);
        applied.vbdExists = true;
        break;
      case "unplugVbd":
        log("unplugging the VBD");
        await unplugVbd(xapi, requireVbd());
        break;
      case "destroyVbd":
        await destroyVbd(xapi, requireVbd());
        destroyed.push(requireVbd());
        vbd = undefined;
        break;
      case "createVbd": {
        if (view.vm === undefined || vdi === undefined)
          throw new Error("internal error: createVbd without VM or VDI");
        log("creating the VBD");
        vbd = await createVbd(xapi, { vm: view.vm.$ref, vdi, tag: view.tag }, step);
        applied.vbdExists = true;
        break;
      }
      case "setVbdBootable":
        await xapi.call("VBD.set_bootable", requireVbd(), step.bootable);
        break;
      case "plugVbd":
        log("plugging the VBD into the running VM");
        await plugVbd(xapi, requireVbd());
        break;
      default:
        throw new Error(`internal error: unexpected step ${step.kind}`);
    }
  }
  const changedVbd = steps.some((step) => VBD_STEPS.has(step.kind));
  const reread = changedVbd && vbd !== undefined ? await readVbd(xapi, vbd) : undefined;
  if (reread !== undefined) {
    const plugged = reread.currently_attached ? `plugged as ${reread.device}` : "not plugged";
    log(`VBD ${reread.uuid}: userdevice ${reread.userdevice}, ${plugged}`);
  }
  return snapshotAfterVbdChanges(snapshot, { destroyed, reread });
}

/**
 * The VDI at `location`: dom0's local-device-change introduces it on a udev add event; after a
 * change event (our trigger) one scan of the SR, shared by concurrent resources, lists it.
 */
async function ensureVdi(
  access: HostAccess,
  view: HostView,
  location: string,
): Promise<{ vdi: Ref; snapshot?: XapiSnapshot }> {
  const sr = view.sr;
  if (sr === undefined) throw new Error(NO_REMOVABLE_STORAGE_SR);
  const existing = view.vdi?.location === location ? view.vdi : undefined;
  if (existing !== undefined) return { vdi: existing.$ref };
  await access.batches.scan(sr.$ref);
  const snapshot = await access.batches.snapshot();
  const scanned = vdiAt(snapshot, sr.$ref, location);
  if (scanned === undefined) {
    throw new Error(
      `SR "${sr.name_label}" (${sr.uuid}) lists no VDI for ${location} after a scan: ` +
        "check that the SR's location is /dev/xapi/block and that the symlink resolves to a block device",
    );
  }
  return { vdi: scanned.$ref, snapshot };
}

function findVbdRef(view: HostView, uuid: string | undefined): Ref | undefined {
  if (uuid === undefined) return undefined;
  return [...view.ownVbds, ...view.otherVbds].find((vbd) => vbd.uuid === uuid)?.$ref;
}
