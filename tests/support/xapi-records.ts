// XAPI call arguments that unit and host tests build alike.

/** VBD.create's record for a Disk VBD (autodetect, RW, not bootable); overrides replace fields. */
export function vbdRecord(vm: unknown, vdi: unknown, overrides: Record<string, unknown> = {}) {
  return {
    VM: vm,
    VDI: vdi,
    userdevice: "autodetect",
    bootable: false,
    mode: "RW",
    type: "Disk",
    empty: false,
    other_config: {},
    qos_algorithm_type: "",
    qos_algorithm_params: {},
    ...overrides,
  };
}
