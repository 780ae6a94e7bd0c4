// The lifecycle without root: the real XAPI simulator, whose udev SR lists the symlinks of a
// fake dom0 (fake-dom0.ts), and the provider's own lifecycle functions over both.
import { checkInputs } from "#provider/core/check.js";
import type { PassthroughDiskInputs } from "#provider/core/inputs.js";
import { hostAccess, look, type HostAccess } from "#provider/lifecycle/connect.js";
import type { XapiCaller } from "#provider/xapi/caller.js";
import type { Xapi } from "xen-api";
import type { XapiSimulator } from "xen-sandbox";
import { FakeDom0 } from "./fake-dom0.js";
import { connectClient, useXapiSimulator } from "./xapi-fixture.js";

/** A running PV guest, for what HVM guests refuse (a RO disk). */
export const PV_GUEST = { nameLabel: "pv-guest", powerState: "Running", guest: "pv" } as const;

export interface LifecycleHost {
  readonly dom0: FakeDom0;
  readonly sim: XapiSimulator;
  readonly access: HostAccess;
  /** Progress lines logged so far. */
  readonly logged: string[];
  readonly log: (line: string) => void;
  /** The next calls of `method` (all of them, or `count`) fail with the XAPI error `code`. */
  failCalls(method: string, code: string, count?: number): void;
}

/** A guest the simulator seeds (its model's `vms`). */
export interface SeededGuest {
  readonly nameLabel: string;
  readonly powerState: "Running" | "Halted";
  readonly guest?: "hvm" | "hvm-no-pv-drivers" | "hvm-no-hotplug" | "pv";
}

/** One simulator and fake dom0 per test file (with more guests when given); `host()` inside a test. */
export function useLifecycleHost(extraGuests: readonly SeededGuest[] = []): () => LifecycleHost {
  const dom0 = new FakeDom0();
  // The simulator's default guests, and a PV one: an HVM guest refuses a RO disk (xapi_vbd.ml plug).
  const vms: SeededGuest[] = [
    { nameLabel: "media-server", powerState: "Running" },
    { nameLabel: "archive", powerState: "Halted" },
    PV_GUEST,
    ...extraGuests,
  ];
  const sim = useXapiSimulator({ devices: dom0, model: { vms } });
  let client: Xapi | undefined;
  let host: LifecycleHost | undefined;
  beforeAll(async () => {
    client = await connectClient(sim(), "json-rpc", { watchEvents: false });
    const connected = client;
    dom0.hostUuid = sim().host.uuid;
    const xapi: XapiCaller = {
      call: <T>(method: string, ...args: unknown[]) => connected.call<T>(method, ...args),
    };
    const logged: string[] = [];
    const simulator = sim();
    host = {
      dom0,
      sim: simulator,
      access: hostAccess(dom0, xapi),
      logged,
      log: (line) => logged.push(line),
      failCalls: (method, code, count) => {
        simulator.control.faults.add({
          method,
          action: { error: { code, params: [] } },
          ...(count === undefined ? {} : { count }),
        });
      },
    };
  });
  afterAll(async () => {
    await client?.disconnect();
  });
  return () => {
    if (host === undefined)
      throw new Error("the lifecycle host did not start: see the beforeAll failure above");
    return host;
  };
}

/** Checked inputs for a disk of the fake dom0 and the simulator's running VM, with overrides. */
export function diskInputs(serial: string, overrides: Record<string, unknown> = {}): PassthroughDiskInputs {
  const { inputs, failures } = checkInputs(
    {},
    {
      connection: { host: "xen1.lan", password: "pw" },
      disk: { serial },
      vm: { nameLabel: "media-server" },
      ...overrides,
    },
  );
  if (failures.length > 0) throw new Error(`fixture inputs fail check: ${JSON.stringify(failures)}`);
  return inputs as unknown as PassthroughDiskInputs;
}

export { look };
