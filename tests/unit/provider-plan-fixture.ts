// Shared fixtures of the plan tests: checked inputs and a state in sync with them.
import { checkInputs } from "#provider/core/check.js";
import type { PassthroughDiskInputs } from "#provider/core/inputs.js";
import type { Plan } from "#provider/core/plan.js";
import { renderRule } from "#provider/core/rule.js";
import type { ObservedState, VmPowerState } from "#provider/core/state.js";

export const VM_UUID = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";

/** Checked inputs (defaults applied), with overrides. */
export function inputs(overrides: Record<string, unknown> = {}): PassthroughDiskInputs {
  const { inputs: checked, failures } = checkInputs(
    {},
    {
      connection: { host: "xen1.lan", password: "old-password" },
      disk: { serial: "S3Z1" },
      vm: { nameLabel: "nas" },
      ...overrides,
    },
  );
  if (failures.length > 0) throw new Error(`fixture inputs fail check: ${JSON.stringify(failures)}`);
  return checked as unknown as PassthroughDiskInputs;
}

/**
 * The state create leaves behind for these inputs; `observed` overrides simulate what read saw,
 * `drift` what it recorded (core/drift.ts reads it from the plan of the view).
 */
export function state(
  of: PassthroughDiskInputs,
  observed: Partial<ObservedState> = {},
  drift: readonly string[] = [],
): Record<string, unknown> {
  const rule = renderRule(of.disk);
  return {
    ...of,
    hostUuid: "host-uuid",
    vmUuid: VM_UUID,
    vdiUuid: "vdi-uuid",
    vbdUuid: "vbd-uuid",
    device: "xvdb",
    kernelName: "sdb",
    symlinkPath: "/dev/xapi/block/sdb",
    rulePath: rule.path,
    ruleText: rule.text,
    currentlyAttached: true,
    sizeBytes: 1024,
    observed: {
      ...inSyncObservation(of, {
        kernelName: "sdb",
        attached: of.attach,
        vmPowerState: "Running",
        userdevice: "1",
      }),
      ...observed,
    },
    drift,
  };
}

/** What "everything as wanted" looks like, e.g. for the state right after a complete create. */
function inSyncObservation(
  inputs: PassthroughDiskInputs,
  made: {
    readonly kernelName: string;
    readonly attached: boolean;
    readonly vmPowerState: VmPowerState;
    readonly userdevice: string;
  },
): ObservedState {
  return {
    ruleStatus: "ok",
    diskPresent: true,
    kernelName: made.kernelName,
    symlinkPresent: true,
    vdiPresent: true,
    vbdPresent: true,
    vbdOnCurrentVdi: true,
    vbdAttached: made.attached,
    vbdMode: inputs.mode,
    vbdUserdevice: made.userdevice,
    vbdBootable: inputs.bootable,
    vmPresent: true,
    vmPowerState: made.vmPowerState,
  };
}

/**
 * A plan in one line, part by part: the release's XAPI step kinds, the dom0 change's fields, the
 * attach's step kinds, then the forget. For tests that check what is planned and in which order.
 */
export function kindsOf(plan: Plan): string[] {
  return [
    ...plan.release.map((step) => step.kind),
    ...(plan.dom0 === undefined ? [] : Object.keys(plan.dom0)),
    ...plan.attach.map((step) => step.kind),
    ...(plan.forget === undefined ? [] : [`forget:${plan.forget.kind}`]),
  ];
}
