import type { ClassSchema, Database } from "../database";
import { Faults, ok } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NULL_REF } from "../values";
import { genericMethods } from "./generic";

export const pbdSchema: ClassSchema = {
  name: "PBD",
  fields: {
    uuid: "",
    host: NULL_REF,
    SR: NULL_REF,
    device_config: {},
    currently_attached: true,
    other_config: {},
  },
};

/**
 * xen-api `xapi_pbd.ml` get_active_vdis_by_pbd: the VDIs of the PBD's SR that a VM resident on
 * the PBD's host has attached through a non-empty VBD.
 */
function activeVdis(db: Database, pbd: string): string[] {
  const host = db.str(pbd, "host");
  const sr = db.str(pbd, "SR");
  const vdis = db
    .find("VBD", (vbd) => vbd["currently_attached"] === true && vbd["empty"] !== true)
    .filter((vbd) => db.str(db.str(vbd, "VM"), "resident_on") === host)
    .map((vbd) => db.str(vbd, "VDI"))
    .filter((vdi) => db.has(vdi, "VDI") && db.str(vdi, "SR") === sr);
  return [...new Set(vdis)];
}

const pbdRef = { name: "self", kind: "ref", cls: "PBD" } as const;
const srLockOfPbd = (args: readonly unknown[], db: Database) => [`SR:${db.str(String(args[0]), "SR")}`];

export const pbdMethods: MethodSpec[] = [
  ...genericMethods(pbdSchema),
  {
    // xapi_pbd.ml plug: nothing to do when attached; else the SR backend attaches (the simulated
    // backends have nothing to set up) and currently_attached becomes true.
    name: "PBD.plug",
    params: [pbdRef],
    hasAsync: true,
    locks: srLockOfPbd,
    handler: ({ db }, [pbd]) => {
      db.update(pbd as string, { currently_attached: true });
      return ok("");
    },
  },
  {
    // xapi_pbd.ml unplug: nothing to do when detached; refused with VDI_IN_USE [vdi, ...] while a
    // VM on that host has one of the SR's VDIs attached (HA statefile checks not modelled).
    name: "PBD.unplug",
    params: [pbdRef],
    hasAsync: true,
    locks: srLockOfPbd,
    handler: ({ db }, [pbd]) => {
      const ref = pbd as string;
      if (!db.bool(ref, "currently_attached")) return ok("");
      const inUse = activeVdis(db, ref);
      if (inUse.length > 0) {
        const [first = "", ...rest] = inUse;
        return Faults.vdiInUse(first, ...rest);
      }
      db.update(ref, { currently_attached: false });
      return ok("");
    },
  },
];
