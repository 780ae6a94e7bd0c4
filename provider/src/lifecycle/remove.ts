// delete: unplug and destroy our VBDs, remove our rule, let udev drop the symlink and the SR
// forget the VDI. Succeeds when pieces are already gone; never touches the disk's data.
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { renderRule, symlinkPath } from "../core/rule.js";
import { removeFile, retrigger } from "../dom0/rules.js";
import { destroyVbd, unplugVbd } from "../xapi/vbd.js";
import { findVdiByLocation } from "../xapi/vdi.js";
import { connect, progressLog } from "./access.js";
import { observe } from "./observe.js";

export async function removePassthrough(inputs: PassthroughDiskInputs): Promise<void> {
  const log = progressLog(inputs);
  const access = await connect(inputs, log);
  const view = await observe(access, inputs);
  for (const vbd of view.ownVbds) {
    if (vbd.currently_attached) {
      log(`unplugging VBD ${vbd.uuid}`);
      await unplugVbd(access.xapi, vbd.$ref);
    }
    await destroyVbd(access.xapi, vbd.$ref);
  }
  const { sr, disk, observation } = view;
  if (view.ruleText !== undefined) {
    log(`removing ${renderRule(inputs.disk).path}`);
    await removeFile(access.remote, renderRule(inputs.disk).path);
  }
  // Re-evaluate the disk even when the rule was already gone: udev drops the symlink only then.
  if (disk === undefined || observation.otherRules.length > 0) return;
  if (view.ruleText !== undefined || observation.symlinkPresent)
    await retrigger(access.remote, disk.kernelName);
  if (sr === undefined) return;
  // The symlink is gone: a scan forgets the VDI; forget it directly if the scan left it.
  await access.xapi.call("SR.scan", sr.$ref);
  const left = await findVdiByLocation(access.xapi, sr.$ref, symlinkPath(disk.kernelName));
  if (left !== undefined && left.VBDs.length === 0) await access.xapi.call("VDI.forget", left.$ref);
}
