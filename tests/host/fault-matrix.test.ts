// The fault matrix, part one: for create, update, delete and read, every XAPI call and every SSH
// exec of a normal run, in turn made to fail once. The calls come from a recorded normal run (the
// simulator's call trace, the sandbox sshd's session count), not from a list kept here. After
// each fault: the operation fails with a clear error or succeeds, and a retry converges with
// nothing leaked and nothing duplicated. The host tier: real sshd (its ForceCommand wrapper fails
// the chosen session), real udevd and loop disks, the real dynamic-provider host.
import { useEngine } from "../support/engine";
import type { MatrixWorld, Operation } from "../support/fault-matrix";
import { PV_GUESTS, convergenceProblems, diskSteps, tearDown } from "../support/fault-matrix";
import { describeFaultMatrix } from "../support/fault-matrix-run";
import { useSandbox } from "../support/sandbox";

const sandbox = useSandbox({ disks: 1, execFaults: true, model: PV_GUESTS });
const engine = useEngine();

function world(): MatrixWorld {
  const disk = sandbox().disks.find((d) => !d.inUse);
  if (disk === undefined) throw new Error("the sandbox has no free disk");
  return { sandbox: sandbox(), engine: engine(), serial: disk.serial };
}

/**
 * Failures the matrix may find: none. A failure that must be tolerated for a while is listed here
 * exactly (operation, fault, what was left), so a fix shows as a failure that empties the list.
 */
const KNOWN: Record<Operation, RegExp[]> = { create: [], update: [], delete: [], read: [] };

describeFaultMatrix(
  "fault matrix",
  sandbox,
  () => {
    const w = world();
    return {
      ...diskSteps(w),
      convergenceProblems: (operation, after) => convergenceProblems(w, operation, after),
      tearDown: (stored) => tearDown(w, stored),
    };
  },
  KNOWN,
);
