/** Pure: which kernel name each disk comes back under after a reboot, and what is refused. */

/** One plugged disk and the name it will ask for (undefined: the first free loop device). */
export interface BootName {
  serial: string;
  kernelName: string | undefined;
  /** True when the caller asked for this name: it must be had, or the reboot fails. */
  required: boolean;
}

const LOOP_NAME = /^loop\d+$/;

/**
 * Pure: checks a reboot's requested kernel names and plans every plugged disk's name. A disk not
 * named keeps its old name unless another disk asked for it (then it takes any free one); an
 * unplugged disk stays unplugged. `busyElsewhere` lists loop devices attached to other images.
 * Returns the plan, or every reason to refuse (before anything changes).
 */
export function planBootNames(
  disks: readonly { serial: string; kernelName: string }[],
  requested: Readonly<Record<string, string>>,
  busyElsewhere: ReadonlySet<string>,
): { plan: BootName[] } | { errors: string[] } {
  const errors: string[] = [];
  const known = new Map(disks.map((disk) => [disk.serial, disk]));
  const seen = new Map<string, string>();
  for (const [serial, name] of Object.entries(requested)) {
    const disk = known.get(serial);
    if (disk === undefined)
      errors.push(`no disk has serial ${serial} (known: ${[...known.keys()].join(", ")})`);
    else if (disk.kernelName === "")
      errors.push(`disk ${serial} is unplugged: it cannot come back at a reboot`);
    if (!LOOP_NAME.test(name))
      errors.push(`kernel name "${name}" for ${serial} is not a loop device name (loopN)`);
    const other = seen.get(name);
    if (other !== undefined) errors.push(`kernel name ${name} is asked for both ${other} and ${serial}`);
    seen.set(name, serial);
    if (busyElsewhere.has(name))
      errors.push(`kernel name ${name} for ${serial} is taken by another loop disk`);
  }
  if (errors.length > 0) return { errors };
  const asked = new Set(Object.values(requested));
  const plan = disks
    .filter((disk) => disk.kernelName !== "")
    .map((disk): BootName => {
      const wanted = requested[disk.serial];
      if (wanted !== undefined) return { serial: disk.serial, kernelName: wanted, required: true };
      const keep = asked.has(disk.kernelName) ? undefined : disk.kernelName;
      return { serial: disk.serial, kernelName: keep, required: false };
    });
  // Required names first: a disk that merely keeps its name never takes one another disk needs.
  return { plan: [...plan.filter((b) => b.required), ...plan.filter((b) => !b.required)] };
}
