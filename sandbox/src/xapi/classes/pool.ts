import type { ClassSchema } from "../database";
import type { MethodSpec } from "../dispatch/method";
import { NULL_REF } from "../values";
import { genericMethods } from "./generic";
import { POOL_UPSTREAM_FIELDS } from "./upstream-fields";

export const poolSchema: ClassSchema = {
  name: "pool",
  fields: {
    ...POOL_UPSTREAM_FIELDS,
    uuid: "",
    name_label: "",
    name_description: "",
    master: NULL_REF,
    default_SR: NULL_REF,
    suspend_image_SR: NULL_REF,
    crash_dump_SR: NULL_REF,
    ha_enabled: false,
    other_config: {},
    gui_config: {},
    tags: [],
    allowed_operations: [],
    current_operations: {},
  },
};

export const poolMethods: MethodSpec[] = genericMethods(poolSchema);
