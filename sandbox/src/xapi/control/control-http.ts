import type { IncomingMessage, ServerResponse } from "node:http";
import type { UsbDevice } from "../classes/usb-policy";
import type { GuestKind } from "../classes/vm-guest-metrics";
import { readBody } from "../wire/http";
import { ControlError, DriftError } from "./control";
import type { SimulatorControl } from "./control";
import type { FaultRule } from "./fault-rules";
import type { ServiceTimeProfile } from "./profile";

/**
 * The control endpoint (JSON over plain HTTP, loopback only):
 *   GET /state · GET /trace · POST /trace/reset
 *   GET /faults · POST /faults (a FaultRule) · DELETE /faults · DELETE /faults/<id>
 *   GET /profile · PUT /profile ({name} or a ServiceTimeProfile)
 *   POST /drift/<setPowerState|unplugVbd|destroyVbd|forgetVdi|destroyVm|setGuest|setPbdAttached>
 *     ({target, state?, kind?, attached?})
 *   POST /devices ({name, sizeBytes, nameLabel?, kernelName?}) · DELETE /devices/<name>
 *   POST /gc (one GC pass now) · GET /gc · PUT /gc ({intervalMs})
 *   POST /hosts/<uuid>/reboot ({kernelNames?: {serial: name}, downMs?}): a RebootReport once booted
 *   GET /usb/<host uuid> · POST /usb/<host uuid>/plug ({device: UsbDevice, scan?})
 *   POST /usb/<host uuid>/unplug ({path, scan?}) · POST /usb/<host uuid>/move ({path, toPath, toHost?, scan?})
 *   GET /usb/<host uuid>/disks · POST /usb/<host uuid>/disks ({kernelName, path}: "" = off USB)
 */
export function controlRequestHandler(control: SimulatorControl) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const reply = (status: number, body: unknown) => {
      const text = JSON.stringify(body ?? null);
      response.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
      });
      response.end(text);
    };
    const remote = request.socket.remoteAddress ?? "";
    if (!["127.0.0.1", "::1", "::ffff:127.0.0.1"].includes(remote)) {
      reply(403, { error: "the control endpoint answers loopback clients only" });
      return;
    }
    try {
      const text = await readBody(request);
      const body: unknown = text === "" ? {} : JSON.parse(text);
      const path = (request.url ?? "/").split("?")[0] ?? "/";
      const result = await route(control, request.method ?? "GET", path, body);
      if (result === NOT_FOUND) reply(404, { error: `no control route ${request.method} ${path}` });
      else reply(200, result);
    } catch (error) {
      const known =
        error instanceof ControlError ||
        error instanceof DriftError ||
        error instanceof SyntaxError ||
        error instanceof RangeError;
      reply(known ? 400 : 500, { error: (error as Error).message });
    }
  };
}

const NOT_FOUND = Symbol("not found");

function field(body: unknown, name: string): unknown {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

function requiredString(body: unknown, name: string): string {
  const value = field(body, name);
  if (typeof value !== "string" || value === "")
    throw new ControlError(`the request body needs a string "${name}"`);
  return value;
}

function route(control: SimulatorControl, method: string, path: string, body: unknown): unknown {
  const [, first = "", second, third] = path.split("/");
  if (method === "POST" && first === "hosts" && second !== undefined && third === "reboot")
    return control.hosts.reboot(decodeURIComponent(second), {
      kernelNames: kernelNamesOf(body),
      ...downMsOf(body),
    });
  if (first === "usb" && second !== undefined)
    return usb(control, method, decodeURIComponent(second), third, body);
  if (third !== undefined) return NOT_FOUND;
  switch (`${method} /${first}${second === undefined ? "" : "/*"}`) {
    case "GET /state":
      return control.state();
    case "GET /trace":
      return control.trace.get();
    case "POST /trace/*":
      if (second !== "reset") return NOT_FOUND;
      control.trace.reset();
      return { reset: true };
    case "GET /faults":
      return control.faults.list();
    case "POST /faults":
      return control.faults.add(body as FaultRule);
    case "DELETE /faults":
      control.faults.clear();
      return { cleared: true };
    case "DELETE /faults/*":
      return { removed: control.faults.remove(second ?? "") };
    case "GET /profile":
      return control.profile.get();
    case "PUT /profile": {
      // {name} alone picks a built-in profile; anything more is a profile of its own.
      const name = requiredString(body, "name");
      const isNameOnly = Object.keys(body as object).length === 1;
      control.profile.set(isNameOnly ? name : (body as Partial<ServiceTimeProfile> & { name: string }));
      return control.profile.get();
    }
    case "POST /drift/*":
      return drift(control, second ?? "", body);
    case "POST /devices":
      return control.devices.add({
        name: requiredString(body, "name"),
        sizeBytes: Number(field(body, "sizeBytes") ?? 0),
        ...(typeof field(body, "nameLabel") === "string"
          ? { nameLabel: field(body, "nameLabel") as string }
          : {}),
        ...(typeof field(body, "kernelName") === "string"
          ? { kernelName: field(body, "kernelName") as string }
          : {}),
      });
    case "POST /gc":
      return control.gc.run();
    case "GET /gc":
      return { intervalMs: control.gc.intervalMs() };
    case "PUT /gc":
      control.gc.setIntervalMs(Number(field(body, "intervalMs")));
      return { intervalMs: control.gc.intervalMs() };
    case "DELETE /devices/*":
      return { removed: control.devices.remove(decodeURIComponent(second ?? "")) };
    default:
      return NOT_FOUND;
  }
}

function usb(
  control: SimulatorControl,
  method: string,
  hostUuid: string,
  action: string | undefined,
  body: unknown,
): unknown {
  const options = { scan: field(body, "scan") === true };
  if (method === "GET" && action === undefined) return control.usb.devices(hostUuid);
  if (method === "GET" && action === "disks") return control.usb.diskPorts(hostUuid);
  if (method !== "POST") return NOT_FOUND;
  switch (action) {
    case "disks": {
      const path = field(body, "path");
      if (typeof path !== "string") throw new ControlError(`the request body needs a "path" ("" = off USB)`);
      control.usb.setDiskPort(hostUuid, requiredString(body, "kernelName"), path);
      return control.usb.diskPorts(hostUuid);
    }
    case "plug": {
      const device = field(body, "device");
      if (typeof device !== "object" || device === null)
        throw new ControlError(`the request body needs a "device" (a UsbDevice)`);
      return control.usb.plug(hostUuid, device as UsbDevice, options);
    }
    case "unplug":
      return control.usb.unplug(hostUuid, requiredString(body, "path"), options);
    case "move": {
      const toHost = field(body, "toHost");
      return control.usb.move(
        hostUuid,
        requiredString(body, "path"),
        { path: requiredString(body, "toPath"), ...(typeof toHost === "string" ? { hostUuid: toHost } : {}) },
        options,
      );
    }
    default:
      return NOT_FOUND;
  }
}

/** The optional {serial: kernel name} map of a reboot request. */
function kernelNamesOf(body: unknown): Record<string, string> {
  const value = field(body, "kernelNames");
  if (value === undefined) return {};
  const isMap = typeof value === "object" && value !== null && !Array.isArray(value);
  const entries = isMap ? Object.entries(value) : undefined;
  if (entries === undefined || entries.some(([, name]) => typeof name !== "string"))
    throw new ControlError(`"kernelNames" must map disk serials to kernel names`);
  return Object.fromEntries(entries);
}

/** The optional {downMs} of a reboot request: how long XAPI stays down at least. */
function downMsOf(body: unknown): { downMs?: number } {
  const value = field(body, "downMs");
  if (value === undefined) return {};
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw new ControlError(`"downMs" must be a number of milliseconds >= 0`);
  return { downMs: value };
}

function drift(control: SimulatorControl, operation: string, body: unknown): unknown {
  const target = requiredString(body, "target");
  switch (operation) {
    case "setPowerState":
      control.drift.setPowerState(target, requiredString(body, "state") as "Halted");
      break;
    case "unplugVbd":
      control.drift.unplugVbd(target);
      break;
    case "destroyVbd":
      control.drift.destroyVbd(target);
      break;
    case "forgetVdi":
      control.drift.forgetVdi(target);
      break;
    case "destroyVm":
      control.drift.destroyVm(target);
      break;
    case "setPbdAttached":
      control.drift.setPbdAttached(target, field(body, "attached") === true);
      break;
    case "setGuest":
      control.drift.setGuest(target, requiredString(body, "kind") as GuestKind);
      break;
    default:
      throw new ControlError(`unknown drift operation "${operation}"`);
  }
  return { done: operation, target };
}
