import type { ClassSchema } from "../database";
import type { MethodSpec } from "../dispatch/method";
import { NULL_REF } from "../values";
import { genericMethods } from "./generic";
import { HOST_UPSTREAM_FIELDS } from "./upstream-fields";

export const hostSchema: ClassSchema = {
  name: "host",
  fields: {
    ...HOST_UPSTREAM_FIELDS,
    uuid: "",
    name_label: "",
    name_description: "",
    hostname: "",
    address: "127.0.0.1",
    enabled: true,
    API_version_major: 2,
    API_version_minor: 21,
    API_version_vendor: "XenSource",
    // Set per host from its sm version at start (sm-version.ts softwareVersionOf).
    software_version: {},
    control_domain: NULL_REF,
    other_config: {},
    tags: [],
    allowed_operations: [],
    current_operations: {},
    memory_overhead: 0,
  },
  backRefs: {
    PBDs: { from: "PBD", via: "host" },
    PUSBs: { from: "PUSB", via: "host" },
    resident_VMs: { from: "VM", via: "resident_on" },
  },
};

export const hostMethods: MethodSpec[] = genericMethods(hostSchema);
