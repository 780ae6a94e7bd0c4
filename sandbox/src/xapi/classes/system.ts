import { ok } from "../faults";
import type { MethodSpec } from "../dispatch/method";

export const systemMethods: MethodSpec[] = [
  {
    name: "system.listMethods",
    params: [],
    needsSession: false,
    handler: ({ world }) => ok(world.methods.listMethods()),
  },
];
