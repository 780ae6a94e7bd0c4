import type { ClassSchema } from "../database";
import { Faults, ok } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NEVER, NULL_REF } from "../values";
import { genericMethods } from "./generic";

export const sessionSchema: ClassSchema = {
  name: "session",
  fields: {
    uuid: "",
    this_host: NULL_REF,
    this_user: NULL_REF,
    last_active: NEVER,
    pool: false,
    is_local_superuser: false,
    subject: NULL_REF,
    validation_time: NEVER,
    auth_user_sid: "",
    auth_user_name: "",
    rbac_permissions: [],
    parent: NULL_REF,
    originator: "",
    other_config: {},
  },
};

export const LOGIN_METHOD = "session.login_with_password";

export const sessionMethods: MethodSpec[] = [
  ...genericMethods(sessionSchema, { listable: false }),
  {
    name: LOGIN_METHOD,
    params: [
      { name: "uname", kind: "string" },
      { name: "pwd", kind: "string" },
      { name: "version", kind: "string" },
      { name: "originator", kind: "string" },
    ],
    optionalParams: 2,
    needsSession: false,
    handler: ({ db, world, transport }, [uname, pwd, _version, originator]) => {
      if (world.masterAddress !== undefined) return Faults.hostIsSlave(world.masterAddress);
      const user = String(uname);
      // Over the Unix socket any credentials are a local superuser login, as on dom0.
      const local = transport === "unix";
      if (!local && (user !== world.credentials.username || pwd !== world.credentials.password)) {
        return Faults.authenticationFailed(user);
      }
      const now = new Date();
      return ok(
        db.create("session", {
          this_host: world.host,
          last_active: now,
          validation_time: now,
          is_local_superuser: local || user === "root",
          auth_user_name: user,
          originator: typeof originator === "string" ? originator : "",
        }),
      );
    },
  },
  {
    name: "session.logout",
    params: [],
    handler: ({ db, session }) => {
      db.destroy(session);
      return ok("");
    },
  },
];
