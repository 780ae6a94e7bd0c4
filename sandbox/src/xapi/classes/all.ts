import type { ClassSchema } from "../database";
import { MethodTable } from "../dispatch/method";
import { eventMethods } from "./event";
import { hostMethods, hostSchema } from "./host";
import { hostMetricsSchema, metricsMethods, vmMetricsSchema } from "./metrics";
import { pbdMethods, pbdSchema } from "./pbd";
import { poolMethods, poolSchema } from "./pool";
import { pusbMethods, pusbSchema } from "./pusb";
import { sessionMethods, sessionSchema } from "./session";
import { srMethods, srSchema } from "./sr";
import { systemMethods } from "./system";
import { taskMethods, taskSchema } from "./task";
import { usbGroupMethods, usbGroupSchema } from "./usb-group";
import { vbdMethods, vbdSchema } from "./vbd";
import { vdiMethods, vdiSchema } from "./vdi";
import { vmMethods, vmSchema } from "./vm";
import { vusbMethods, vusbSchema } from "./vusb";
import { vmGuestMetricsMethods, vmGuestMetricsSchema } from "./vm-guest-metrics";

/** Every modelled class, in the order get_all_records callers usually fetch them. */
export const ALL_SCHEMAS: ClassSchema[] = [
  poolSchema,
  hostSchema,
  hostMetricsSchema,
  vmSchema,
  vmMetricsSchema,
  vmGuestMetricsSchema,
  srSchema,
  pbdSchema,
  vdiSchema,
  vbdSchema,
  pusbSchema,
  usbGroupSchema,
  vusbSchema,
  taskSchema,
  sessionSchema,
];

/** The method table: anything not listed here answers MESSAGE_METHOD_UNKNOWN. */
export function buildMethodTable(): MethodTable {
  const table = new MethodTable();
  table.add(
    ...poolMethods,
    ...hostMethods,
    ...vmMethods,
    ...vmGuestMetricsMethods,
    ...metricsMethods,
    ...srMethods,
    ...pbdMethods,
    ...vdiMethods,
    ...vbdMethods,
    ...pusbMethods,
    ...usbGroupMethods,
    ...vusbMethods,
    ...taskMethods,
    ...sessionMethods,
    ...eventMethods,
    ...systemMethods,
  );
  return table;
}
