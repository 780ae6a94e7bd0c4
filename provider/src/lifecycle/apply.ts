// Runs the steps planConverge chose, in order. Keeps "the VDI" and "the VBD" as it goes and
// records what it changed, so a create that fails early can be rolled back.
import type { Step } from "../core/converge-plan.js";
import type { Log } from "../dom0/remote.js";
import { NO_REMOVABLE_STORAGE_SR } from "../xapi/host.js";
import type { Ref } from "../xapi/records.js";
import { createVbd, destroyVbd, plugVbd, tagVbd, unplugVbd } from "../xapi/vbd.js";
import { ensureVdi } from "../xapi/vdi.js";
import type { HostAccess, HostView } from "./observe.js";
import { disableRule, retrigger, waitForSymlink } from "../dom0/rules.js";

/** What one run of the steps changed on the host. */
export interface Applied {
  /** Our rule file was written where none existed. */
  ruleCreated: boolean;
  /** Rules of others moved aside (adopt): original path -> where it went. */
  readonly rulesDisabled: Map<string, string>;
  /** The VBD exists (created or adopted): from here on, failures keep partial state. */
  vbdExists: boolean;
}

export async function applySteps(
  access: HostAccess,
  view: HostView,
  steps: readonly Step[],
  log: Log,
  applied: Applied,
): Promise<void> {
  const { remote, xapi } = access;
  let vdi: Ref | undefined = view.vdi?.$ref;
  let vbd: Ref | undefined = findVbdRef(view, view.observation.vbd?.uuid);
  const requireVbd = (): Ref => {
    if (vbd === undefined) throw new Error("internal error: a VBD step ran before the VBD was known");
    return vbd;
  };

  for (const step of steps) {
    switch (step.kind) {
      case "writeRule":
        log(`writing ${step.path}`);
        await remote.writeFileAtomic(step.path, step.text, 0o644);
        if (view.ruleText === undefined) applied.ruleCreated = true;
        break;
      case "removeRule": {
        const aside = await disableRule(remote, step.path);
        log(`took over ${step.path}: moved it to ${aside} (udev reads only *.rules)`);
        applied.rulesDisabled.set(step.path, aside);
        break;
      }
      case "reloadAndTrigger":
        await retrigger(remote, step.kernelName);
        break;
      case "waitSymlink":
        await waitForSymlink(remote, step.path, step.timeoutSeconds, log);
        break;
      case "ensureVdi": {
        if (view.sr === undefined) throw new Error(NO_REMOVABLE_STORAGE_SR);
        vdi = (await ensureVdi(xapi, view.sr, step.location)).$ref;
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
        vbd = undefined;
        break;
      case "createVbd": {
        if (view.vm === undefined || vdi === undefined)
          throw new Error("internal error: createVbd without VM or VDI");
        const created = await createVbd(xapi, { vm: view.vm.$ref, vdi, tag: view.tag }, step);
        vbd = created.$ref;
        applied.vbdExists = true;
        log(`created VBD ${created.uuid} (userdevice ${created.userdevice})`);
        break;
      }
      case "setVbdBootable":
        await xapi.call("VBD.set_bootable", requireVbd(), step.bootable);
        break;
      case "plugVbd":
        log("plugging the VBD into the running VM");
        await plugVbd(xapi, requireVbd());
        break;
    }
  }
}

function findVbdRef(view: HostView, uuid: string | undefined): Ref | undefined {
  if (uuid === undefined) return undefined;
  return [...view.ownVbds, ...view.otherVbds].find((vbd) => vbd.uuid === uuid)?.$ref;
}
