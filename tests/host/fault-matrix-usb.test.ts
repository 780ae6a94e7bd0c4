// The fault matrix for PassthroughUsb: for create, update (the stick to another VM), delete and
// read, every XAPI call and every SSH exec of a normal run, in turn made to fail once (taken from
// a recorded normal run: the simulator's call trace, the sandbox sshd's session count). After
// each fault: the operation fails with a clear error or succeeds, and a retry converges with no
// VUSB or passthrough left that the resource does not hold, and none duplicated.
import type { UsbMatrixWorld } from "../support/fault-matrix-usb";
import { USB_GUESTS, tearDownUsb, usbConvergenceProblems, usbSteps } from "../support/fault-matrix-usb";
import { describeFaultMatrix } from "../support/fault-matrix-run";
import { useSandbox } from "../support/sandbox";
import { useUsbEngine } from "../support/usb-engine";

const sandbox = useSandbox({ disks: 1, execFaults: true, model: USB_GUESTS });
const engine = useUsbEngine();

describeFaultMatrix("USB fault matrix", sandbox, () => {
  const w: UsbMatrixWorld = { sandbox: sandbox(), engine: engine() };
  return {
    ...usbSteps(w),
    convergenceProblems: (operation, after) => usbConvergenceProblems(w, operation, after),
    tearDown: (stored) => tearDownUsb(w, stored),
  };
});
