import type { Dispatcher } from "./dispatch/dispatcher";
import type { XapiFault } from "./faults";
import { asStringMap } from "./values";
import type { World } from "./world";

/**
 * Pure over the database: the VMs xapi-autostart-vms starts (xen-api `scripts/xapi-autostart-vms`:
 * only when the pool's other-config:auto_poweron is "true", then `xe vm-start
 * other-config:auto_poweron=true power-state=halted --multiple`, pool-wide, errors ignored), in
 * the database's order (choice: xe's order is that of its record list).
 */
export function autoStartCandidates(world: World): string[] {
  const { db } = world;
  if ((asStringMap(db.field(world.pool, "other_config")) ?? {})["auto_poweron"] !== "true") return [];
  return db.find(
    "VM",
    (vm) =>
      vm["is_control_domain"] !== true &&
      vm["is_a_template"] !== true &&
      vm["is_a_snapshot"] !== true &&
      vm["power_state"] === "Halted" &&
      (asStringMap(vm["other_config"]) ?? {})["auto_poweron"] === "true",
  );
}

/** A XAPI failure as xe's callers read it: "CODE [param, ...]". */
export function describeFault(fault: XapiFault): string {
  return `${fault.code} [${fault.params.join(", ")}]`;
}

/**
 * VM.start of `vm` as `xe vm-start` on `host` makes it: a local superuser session over the host's
 * Unix socket, the call, logout; through the dispatcher, so fault rules and the trace apply.
 * Undefined when it started, else the failure.
 */
export async function startVmAsXe(
  dispatcher: Dispatcher,
  vm: string,
  host: string,
): Promise<string | undefined> {
  const call = (method: string, params: unknown[]) => dispatcher.dispatch(method, params, "unix", host);
  const outcome = async (result: ReturnType<typeof call>) => {
    const settled = await result;
    if (settled.kind === "success") return undefined;
    return settled.kind === "failure" ? describeFault(settled.fault) : "the connection was dropped";
  };
  const login = await call("session.login_with_password", ["root", "", "1.0", "xapi-autostart-vms"]);
  if (login.kind !== "success") return outcome(Promise.resolve(login));
  try {
    return await outcome(call("VM.start", [login.value, vm, false, false]));
  } finally {
    await call("session.logout", [login.value]);
  }
}
