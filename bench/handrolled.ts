/**
 * The hand-rolled baseline, one scenario at a time: per disk, a new SSH connection running the
 * udev + `xe` script (handrolled-scripts.ts), all disks at once, as the engine would run
 * `@pulumi/command` resources. Preview runs nothing remote (a Command's preview is local).
 */
import type { Operation } from "./floor";
import {
  createScript,
  deleteScript,
  parseOutputs,
  refreshScript,
  updateScript,
  type HandRolledDisk,
  type HandRolledOutputs,
} from "./handrolled-scripts";
import type { PlacedDisk } from "./ours";
import { runOverFreshConnection } from "./ssh-command";

export interface HandRolledResult {
  readonly wallMs: number;
  readonly outputs: readonly HandRolledOutputs[] | undefined;
}

function describe(disk: PlacedDisk): HandRolledDisk {
  const vmUuid = disk.host.vmUuids[disk.vm];
  if (vmUuid === undefined) throw new Error(`host ${disk.host.index + 1} has no VM #${disk.vm + 1}`);
  return { serial: disk.serial, byId: disk.byId, srUuid: disk.host.srUuid, vmUuid };
}

async function one(
  operation: Exclude<Operation, "preview">,
  disk: PlacedDisk,
  mode: "RW" | "RO",
  before: HandRolledOutputs | undefined,
): Promise<HandRolledOutputs | undefined> {
  const target = describe(disk);
  const run = (script: string) => runOverFreshConnection(disk.host.ssh, script);
  if (operation === "create") return parseOutputs(await run(createScript(target, mode)));
  if (before === undefined) throw new Error("internal error: a hand-rolled scenario ran before create");
  switch (operation) {
    case "refresh":
      await run(refreshScript(target, before));
      return before;
    case "update":
      return parseOutputs(await run(updateScript(target, before, mode)));
    case "delete":
      await run(deleteScript(target, before));
      return undefined;
  }
}

export async function runHandRolled(
  operation: Exclude<Operation, "preview">,
  disks: readonly PlacedDisk[],
  mode: "RW" | "RO",
  before: readonly HandRolledOutputs[] | undefined,
): Promise<HandRolledResult> {
  const started = performance.now();
  const after = await Promise.all(disks.map((disk, index) => one(operation, disk, mode, before?.[index])));
  const wallMs = performance.now() - started;
  if (operation === "delete") return { wallMs, outputs: undefined };
  return {
    wallMs,
    outputs: after.map((outputs) => {
      if (outputs === undefined) throw new Error(`internal error: hand-rolled ${operation} lost its outputs`);
      return outputs;
    }),
  };
}
