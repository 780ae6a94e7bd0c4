// delete: unplug and destroy our VBDs, remove our rule, let udev drop the symlink and the SR
// forget the VDI. Succeeds when pieces are already gone; never touches the disk's data.
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { renderRule, symlinkPath } from "../core/rule.js";
import { vdiAt } from "../xapi/snapshot.js";
import { destroyVbd, unplugVbd } from "../xapi/vbd.js";
import { connect, progressLog } from "./access.js";
import { observe } from "./observe.js";

export async function removePassthrough(inputs: PassthroughDiskInputs): Promise<void> {
  const log = progressLog(inputs);
  const access = await connect(inputs, log);
  const view = await observe(access, inputs);
  await Promise.all(
    view.ownVbds.map(async (vbd) => {
      if (vbd.currently_attached) {
        log(`unplugging VBD ${vbd.uuid}`);
        await unplugVbd(access.xapi, vbd.$ref);
      }
      await destroyVbd(access.xapi, vbd.$ref);
    }),
  );
  const { sr, disk, observation } = view;
  const rulePath = renderRule(inputs.disk).path;
  if (view.ruleText !== undefined) log(`removing ${rulePath}`);
  // Re-evaluate the disk even when the rule was already gone: udev drops the symlink only then.
  const retrigger =
    disk !== undefined &&
    observation.otherRules.length === 0 &&
    (view.ruleText !== undefined || observation.symlinkPresent);
  if (view.ruleText !== undefined || retrigger) {
    await access.batches.udev({
      removes: view.ruleText === undefined ? [] : [rulePath],
      triggers: retrigger ? [disk.kernelName] : [],
    });
  }
  if (!retrigger || sr === undefined) return;
  // The symlink is gone: a scan forgets the VDI; forget it directly if the scan left it.
  await access.batches.scan(sr.$ref);
  const left = vdiAt(await access.batches.snapshot(), sr.$ref, symlinkPath(disk.kernelName));
  if (left !== undefined && left.VBDs.length === 0) await access.xapi.call("VDI.forget", left.$ref);
}
