import type { ClassSchema } from "../database";
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

export const pbdMethods: MethodSpec[] = genericMethods(pbdSchema);
