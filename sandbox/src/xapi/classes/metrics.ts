// VM_metrics and host_metrics: the objects VM.metrics and host.metrics point at on every real
// host (xen-api ocaml/idl/datamodel.ml VM_metrics, Host_metrics; xapi creates one per VM in
// xapi_vm_helpers.ml create_metrics and one per host at start-up). Clients read them for memory
// and start times. The simulator sets what a power change makes XAPI set (xapi_xenops.ml
// update_vm: start_time, memory_actual, VCPUs_number, current_domain_type, hvm); the figures
// themselves (memory, CPUs) are our choice.
import type { ClassSchema, Database } from "../database";
import type { MethodSpec } from "../dispatch/method";
import { NEVER } from "../values";
import { genericMethods } from "./generic";

export const vmMetricsSchema: ClassSchema = {
  name: "VM_metrics",
  fields: {
    uuid: "",
    memory_actual: 0,
    VCPUs_number: 0,
    VCPUs_utilisation: {},
    VCPUs_CPU: {},
    VCPUs_params: {},
    VCPUs_flags: {},
    state: [],
    start_time: NEVER,
    install_time: NEVER,
    last_updated: NEVER,
    other_config: {},
    hvm: false,
    nested_virt: false,
    nomigrate: false,
    current_domain_type: "unspecified",
    numa_optimised: false,
    numa_nodes: 0,
    numa_node_memory: {},
  },
};

export const hostMetricsSchema: ClassSchema = {
  name: "host_metrics",
  fields: {
    uuid: "",
    memory_total: 0,
    memory_free: 0,
    live: false,
    last_updated: NEVER,
    other_config: {},
  },
};

export const metricsMethods: MethodSpec[] = [
  ...genericMethods(vmMetricsSchema),
  ...genericMethods(hostMetricsSchema),
];

const GiB = 1024 ** 3;

/** A host's metrics record, live (our choice of figures: a 64 GiB host with half its memory free). */
export function createHostMetrics(db: Database, host: string): void {
  const metrics = db.create("host_metrics", {
    memory_total: 64 * GiB,
    memory_free: 32 * GiB,
    live: true,
    last_updated: new Date(),
  });
  db.update(host, { metrics });
}

/** A VM's metrics record (install time now), filled for its current power state. */
export function createVmMetrics(db: Database, vm: string): void {
  const metrics = db.create("VM_metrics", { install_time: new Date() });
  db.update(vm, { metrics });
  updateVmMetrics(db, vm);
}

/** What a power change sets in the VM's metrics: a running domain's figures, or zeroes once halted. */
export function updateVmMetrics(db: Database, vm: string): void {
  const metrics = db.str(vm, "metrics");
  if (!db.has(metrics, "VM_metrics")) return;
  const running = ["Running", "Paused"].includes(db.str(vm, "power_state"));
  const domainType = db.str(vm, "domain_type");
  db.update(metrics, {
    memory_actual: running ? Number(db.field(vm, "memory_dynamic_max")) : 0,
    VCPUs_number: running ? Number(db.field(vm, "VCPUs_at_startup")) : 0,
    start_time: running ? new Date() : NEVER,
    current_domain_type: running ? domainType : "unspecified",
    hvm: running && domainType === "hvm",
    last_updated: new Date(),
  });
}
