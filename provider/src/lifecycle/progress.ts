// Long waits (udev linking a disk, an SR scan, a plug queued behind others on the VM) report
// how long they have waited every few seconds, so a user watching `pulumi up` sees progress
// instead of one line and then silence.
import type { PassthroughDiskInputs } from "../core/inputs.js";
import type { PassthroughUsbInputs } from "../core/usb-inputs.js";
import type { Log } from "../dom0/remote.js";

/** How often a wait reports itself. */
export const PROGRESS_EVERY_MS = 5_000;

/** Pure: "waiting for udev to link sdb: 10/60 s" (or "…: 10 s" without a bound). */
export function progressLine(what: string, elapsedSeconds: number, limitSeconds?: number): string {
  return `${what}: ${elapsedSeconds}${limitSeconds === undefined ? "" : `/${limitSeconds}`} s`;
}

/** Awaits `work`, logging how long it has taken every `everyMs` until it settles. */
export async function withProgress<T>(
  log: Log,
  what: string,
  work: Promise<T>,
  options: { readonly limitSeconds?: number; readonly everyMs?: number } = {},
): Promise<T> {
  const everyMs = options.everyMs ?? PROGRESS_EVERY_MS;
  let ticks = 0;
  // Counted in ticks, not read from a clock: a clock step must not make the line jump.
  const timer = setInterval(() => {
    ticks += 1;
    log(progressLine(what, Math.round((ticks * everyMs) / 1000), options.limitSeconds));
  }, everyMs);
  // A pending report must not keep the provider host alive.
  timer.unref();
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** Progress lines reach the user through the engine (console.log of the provider host). */
export function progressLog(inputs: PassthroughDiskInputs): Log {
  const [kind, value] = Object.entries(inputs.disk)[0] ?? ["disk", "?"];
  return (line) => console.log(`[xen-passthrough ${kind}=${String(value)}] ${line}`);
}

/** PassthroughUsb's progress lines, named by the device's vendor:product. */
export function usbProgressLog(inputs: PassthroughUsbInputs): Log {
  const { vendorId, productId } = inputs.device;
  return (line) => console.log(`[xen-passthrough usb=${vendorId}:${productId}] ${line}`);
}
