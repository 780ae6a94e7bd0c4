// XAPI as another client sees it: a JSON-RPC caller (logged in on first use, over TLS) and the
// PUSB / VUSB / VM look-ups that the PassthroughUsb tests of both tiers check the provider with.
import type { XapiSimulator } from "xen-sandbox";
import { jsonResult, login } from "../unit/xapi-fixture";

/** The fields of PUSB and VUSB records the tests read. */
export interface UsbRec {
  uuid: string;
  path: string;
  passthrough_enabled: boolean;
  USB_group: string;
  VM: string;
  currently_attached: boolean;
  other_config: Record<string, string>;
}

export interface UsbXapiView {
  readonly xapi: <T = unknown>(method: string, ...params: unknown[]) => Promise<T>;
  /** `<cls>.get_all_records` as [ref, record] pairs. */
  readonly records: (cls: string) => Promise<[string, UsbRec][]>;
  /** The PUSB at a USB port path, with its ref; throws if there is none. */
  readonly pusb: (path: string) => Promise<UsbRec & { ref: string }>;
  readonly vusbs: () => Promise<(UsbRec & { ref: string })[]>;
  /** The VM of a name label, or "" when there is none. */
  readonly vmRef: (name: string) => Promise<string>;
}

/** `sim` is read on each call: the simulator starts after the test file is loaded. */
export function usbXapiView(sim: () => XapiSimulator): UsbXapiView {
  let session = "";
  async function xapi<T = unknown>(method: string, ...params: unknown[]): Promise<T> {
    if (session === "") session = await login(sim());
    return jsonResult<T>({ sim: sim() }, method, [session, ...params]);
  }
  const records = async (cls: string) =>
    Object.entries(await xapi<Record<string, UsbRec>>(`${cls}.get_all_records`));
  return {
    xapi,
    records,
    pusb: async (path) => {
      const found = (await records("PUSB")).find(([, r]) => r.path === path);
      if (found === undefined) throw new Error(`no PUSB at port ${path}`);
      return { ref: found[0], ...found[1] };
    },
    vusbs: async () => (await records("VUSB")).map(([ref, r]) => ({ ref, ...r })),
    vmRef: async (name) => (await xapi<string[]>("VM.get_by_name_label", name))[0] ?? "",
  };
}
