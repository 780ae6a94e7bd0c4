import type { ClassSchema, Database } from "../database";
import { Faults, ok } from "../faults";
import type { Outcome } from "../faults";
import type { MethodSpec } from "../dispatch/method";
import { NEVER, NULL_REF, XapiFloat } from "../values";
import type { XapiValue } from "../values";
import { encodeXmlRpcValue } from "../wire/xml-rpc";
import { genericMethods } from "./generic";

export const taskSchema: ClassSchema = {
  name: "task",
  fields: {
    uuid: "",
    name_label: "",
    name_description: "",
    allowed_operations: [],
    current_operations: {},
    created: NEVER,
    finished: NEVER,
    status: "pending",
    resident_on: NULL_REF,
    progress: new XapiFloat(0),
    type: "",
    result: "",
    error_info: [],
    other_config: {},
    subtask_of: NULL_REF,
    subtasks: [],
    backtrace: "()",
  },
};

export function createTask(db: Database, host: string, label: string, description = ""): string {
  return db.create("task", {
    name_label: label,
    name_description: description,
    created: new Date(),
    resident_on: host,
    allowed_operations: ["cancel"],
  });
}

/** Settles a task as XAPI does: `result` holds the XML-RPC encoding of the value ("" for void). */
export function finishTask(db: Database, task: string, outcome: Outcome<XapiValue>): void {
  if (!db.has(task, "task")) return; // destroyed by its owner meanwhile
  const settled = outcome.ok
    ? {
        status: "success",
        result: outcome.value === "" ? "" : encodeXmlRpcValue(outcome.value),
        error_info: [],
      }
    : { status: "failure", result: "", error_info: [outcome.fault.code, ...outcome.fault.params] };
  db.update(task, { ...settled, finished: new Date(), progress: new XapiFloat(1), allowed_operations: [] });
}

const taskRef = { name: "task", kind: "ref", cls: "task" } as const;

export const taskMethods: MethodSpec[] = [
  ...genericMethods(taskSchema),
  {
    name: "task.create",
    params: [
      { name: "label", kind: "string" },
      { name: "description", kind: "string" },
    ],
    handler: ({ db, world }, [label, description]) =>
      ok(createTask(db, world.host, String(label), String(description))),
  },
  {
    name: "task.destroy",
    params: [taskRef],
    handler: ({ db }, [task]) => {
      db.destroy(task as string);
      return ok("");
    },
  },
  {
    name: "task.cancel",
    params: [taskRef],
    // A custom call with the default flags, so it has an Async form (xen-api datamodel.ml Task.cancel).
    hasAsync: true,
    handler: ({ db }, [task]) => {
      if (db.str(task as string, "status") !== "pending")
        return Faults.operationNotAllowed("task is not pending");
      db.update(task as string, { status: "cancelled", finished: new Date(), allowed_operations: [] });
      return ok("");
    },
  },
];
