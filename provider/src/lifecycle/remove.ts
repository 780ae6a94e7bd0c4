// delete: look -> plan (core/remove-plan.ts) -> apply. Our VBDs go, our rule and the symlink,
// the VDI, our claim and boot-repair record; each part is planned from what is on the host now, so
// a delete retried after any failure finishes the job.
import type { PassthroughDiskInputs } from "../core/inputs.js";
import { planRemove } from "../core/remove-plan.js";
import type { Log } from "../dom0/remote.js";
import type { HostLook } from "../look/host-view.js";
import { applyPlan } from "./apply.js";
import { ApplyError } from "./changes.js";
import { connectAndLook, progressLog, type HostAccess } from "./connect.js";

/** `previous`: an owner change cut short (lifecycle/converge.ts), whose pieces are ours too. */
export async function removePassthrough(
  inputs: PassthroughDiskInputs,
  previous?: { readonly owner: string | undefined },
): Promise<void> {
  const log = progressLog(inputs);
  const { access, view } = await connectAndLook(inputs, log, previous, "changes");
  await removeFrom(access, view, inputs, log);
}

/** Removes what `view` shows of ours. A failure throws its cause: the retry plans from a new look. */
export async function removeFrom(
  access: HostAccess,
  view: HostLook,
  inputs: PassthroughDiskInputs,
  log: Log,
): Promise<void> {
  try {
    await applyPlan(access, view, inputs, planRemove(view, inputs), log);
  } catch (error) {
    throw error instanceof ApplyError ? error.cause : error;
  }
}
