import type { ClassSchema } from "../database";
import { Faults, ok } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NEVER, NULL_REF } from "../values";
import { genericMethods } from "./generic";
import { SESSION_UPSTREAM_FIELDS } from "./upstream-fields";

export const sessionSchema: ClassSchema = {
  name: "session",
  fields: {
    ...SESSION_UPSTREAM_FIELDS,
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
    handler: ({ db, world, transport, localHost }, [uname, pwd, _version, originator]) => {
      // xapi_session.ml login_with_password: a login over the local Unix socket (preauth root)
      // is a local superuser session whatever the credentials, on a member too (login is on
      // api_server.ml's do-not-forward whitelist; every other call on a member's socket is
      // forwarded to the master, so it sees the pool's data). Only a remote login on a member
      // answers HOST_IS_SLAVE [master address].
      const local = transport === "unix";
      if (!local && world.masterAddress !== undefined) return Faults.hostIsSlave(world.masterAddress);
      if (!local && localHost !== world.host) return Faults.hostIsSlave(db.str(world.host, "address"));
      const user = String(uname);
      if (!local && (user !== world.credentials.username || pwd !== world.credentials.password)) {
        return Faults.authenticationFailed(user);
      }
      const now = new Date();
      return ok(
        db.create("session", {
          this_host: localHost,
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
