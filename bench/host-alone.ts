// What the dynamic-provider host itself takes for a refresh of the layout's resources, with a
// provider whose read answers at once with the state it was handed: the engine's calls, the host's
// decoding and encoding of the states and its replies, nothing of ours and nothing of any
// XenServer host. Not a floor term (a client that is not a Pulumi provider does not pay it): it
// shows how much of our refresh's growth with the number of disks is the host's own.
import { startDynamicHost, type Stored } from "xen-sandbox";
import { REPO_ROOT } from "./provider-host";

/** A serialized provider as the host loads one: its read hands the state back unchanged. */
const ANSWERS_AT_ONCE = "exports.handler = () => ({ read: async (id, props) => ({ id, props }) });";

/** ms from the first Read sent to the last reply, the states being those our refresh returned. */
export async function hostAloneRefreshMs(states: readonly Stored[]): Promise<number> {
  const host = await startDynamicHost({ cwd: REPO_ROOT });
  try {
    await host.configure({});
    const started = performance.now();
    await Promise.all(
      states.map((stored) => host.read(stored.id, { ...stored.state, __provider: ANSWERS_AT_ONCE })),
    );
    return performance.now() - started;
  } finally {
    await host.stop();
  }
}
