// The seed makes its guests through the classes' own paths (VDI introduce_dbonly, VBD.create,
// VM.start_on): nothing seeded is a state the API would refuse to make.
import type { XapiSimulatorOptions } from "xen-sandbox";
import { jsonResult, login, useXapiSimulator } from "./xapi-fixture";

type Rec = Record<string, unknown>;

/** Fields VBD.create takes, as a client would pass them back. */
const CREATE_FIELDS = [
  "VM",
  "VDI",
  "userdevice",
  "bootable",
  "mode",
  "type",
  "empty",
  "unpluggable",
  "other_config",
  "qos_algorithm_type",
  "qos_algorithm_params",
];
const pick = (record: Rec, fields: readonly string[]) =>
  Object.fromEntries(fields.filter((field) => field in record).map((field) => [field, record[field]]));

const shapes: Array<[string, XapiSimulatorOptions]> = [
  ["a standalone host", {}],
  ["a pool of two hosts", { members: [{}] }],
];
for (const [shape, options] of shapes) {
  describe(`the seed of ${shape}`, () => {
    const sim = useXapiSimulator({ gcIntervalMs: 0, ...options });
    let session = "";
    const call = <T = unknown>(method: string, ...args: unknown[]) =>
      jsonResult<T>({ sim: sim() }, method, [session, ...args]);
    beforeAll(async () => {
      session = await login(sim());
    });

    test("a guest's system disk has its own uuid as location, as sm gives an LVM or NFS VDI", async () => {
      const vdis = Object.values(await call<Record<string, Rec>>("VDI.get_all_records"));
      const system = vdis.filter((vdi) => String(vdi["name_label"]).endsWith(" system disk"));
      expect(system.length).toBeGreaterThan(0);
      for (const vdi of system) expect(vdi["location"]).toBe(vdi["uuid"]);
    });

    test("every guest, its disk and its VBD can be made again through the API, to the same state", async () => {
      const vms = await call<Record<string, Rec>>("VM.get_all_records");
      for (const [vm, record] of Object.entries(vms)) {
        if (record["is_control_domain"] === true) continue;
        const running = record["power_state"] === "Running";
        const host = record["resident_on"];
        const refs = record["VBDs"] as string[];
        const vbds = await Promise.all(refs.map(async (ref) => call<Rec>("VBD.get_record", ref)));
        if (running) await call("VM.hard_shutdown", vm);
        for (const [index, vbd] of vbds.entries()) {
          // The disk: forgotten and introduced again with its uuid and location (introduce's checks).
          const disk = await call<Rec>("VDI.get_record", vbd["VDI"]);
          await call("VBD.destroy", refs[index]);
          await call("VDI.forget", vbd["VDI"]);
          const vdi = await call<string>(
            "VDI.introduce",
            disk["uuid"],
            disk["name_label"],
            disk["name_description"],
            disk["SR"],
            disk["type"],
            disk["sharable"],
            disk["read_only"],
            disk["other_config"],
            disk["location"],
            disk["xenstore_data"],
            disk["sm_config"],
          );
          // The VBD: VBD.create with the seeded one's own fields.
          const wanted = { ...pick(vbd, CREATE_FIELDS), VDI: vdi };
          const made = await call<string>("VBD.create", wanted);
          expect(pick(await call<Rec>("VBD.get_record", made), CREATE_FIELDS)).toEqual(wanted);
        }
        if (running) {
          await call("VM.start_on", vm, host, false, false);
          const again = await call<Rec>("VM.get_record", vm);
          expect(again["power_state"]).toBe("Running");
          const devices = await Promise.all(
            (again["VBDs"] as string[]).map(async (ref) => call<Rec>("VBD.get_record", ref)),
          );
          expect(devices.map((vbd) => [vbd["device"], vbd["currently_attached"]])).toEqual(
            vbds.map((vbd) => [vbd["device"], vbd["currently_attached"]]),
          );
        }
      }
    });
  });
}
