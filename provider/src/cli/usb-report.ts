// What `xen-passthrough usb` reports, pure: the host's USB devices from XAPI's records, each with
// who has it and the `device:` identity to paste into a PassthroughUsb.
import { PUSB_ENABLED_BY_KEY, VUSB_OWNER_KEY } from "../core/usb-view.js";
import type { UsbSnapshot } from "../xapi/usb.js";

export interface UsbReportDevice {
  readonly path: string;
  readonly vendorId: string;
  readonly productId: string;
  readonly vendor: string;
  readonly product: string;
  /** null when the device reports none (then only its port names it). */
  readonly serial: string | null;
  readonly pusbUuid: string;
  readonly passthroughEnabled: boolean;
  /** The PassthroughUsb that enabled passthrough, when one did. */
  readonly enabledBy: string | null;
  /** The VM the device is given to (XAPI allows one), and whether it is attached now. */
  readonly vusb: {
    readonly uuid: string;
    readonly vm: { readonly nameLabel: string; readonly uuid: string; readonly powerState: string };
    readonly attached: boolean;
    readonly managedBy: string | null;
  } | null;
  /** The identity to paste: serial when there is one, else the port path. */
  readonly identity: Readonly<Record<string, string>>;
  readonly paste: string;
  /** Why the identity is weak, when it is (no serial; a serial shared by several devices). */
  readonly identityWarning: string | null;
}

export interface UsbReport {
  readonly target: string;
  readonly host: { readonly uuid: string; readonly nameLabel: string };
  readonly devices: readonly UsbReportDevice[];
}

/** The devices of host `hostUuid`, by port. */
export function buildUsbReport(target: string, snapshot: UsbSnapshot, hostUuid: string): UsbReport {
  const host = snapshot.hosts.find((h) => h.uuid === hostUuid);
  const here = snapshot.pusbs
    .filter((pusb) => pusb.host === host?.$ref)
    .sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
  const devices = here.map((pusb): UsbReportDevice => {
    const vendorId = pusb.vendor_id.toLowerCase();
    const productId = pusb.product_id.toLowerCase();
    const vusb = snapshot.vusbs.find((v) => v.USB_group === pusb.USB_group);
    const vm = snapshot.vms.find((v) => v.$ref === vusb?.VM);
    const twins = here.filter(
      (other) =>
        other !== pusb &&
        other.serial !== "" &&
        other.serial === pusb.serial &&
        other.vendor_id.toLowerCase() === vendorId &&
        other.product_id.toLowerCase() === productId,
    );
    const bySerial = pusb.serial !== "" && twins.length === 0;
    const identity = bySerial
      ? { vendorId, productId, serial: pusb.serial }
      : { vendorId, productId, path: pusb.path };
    return {
      path: pusb.path,
      vendorId,
      productId,
      vendor: pusb.vendor_desc,
      product: pusb.product_desc,
      serial: pusb.serial === "" ? null : pusb.serial,
      pusbUuid: pusb.uuid,
      passthroughEnabled: pusb.passthrough_enabled,
      enabledBy: pusb.other_config[PUSB_ENABLED_BY_KEY] ?? null,
      vusb:
        vusb === undefined
          ? null
          : {
              uuid: vusb.uuid,
              vm: {
                nameLabel: vm?.name_label ?? "",
                uuid: vm?.uuid ?? "",
                powerState: vm?.power_state ?? "",
              },
              attached: vusb.currently_attached,
              managedBy: vusb.other_config[VUSB_OWNER_KEY] ?? null,
            },
      identity,
      paste: `device: { ${Object.entries(identity)
        .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
        .join(", ")} }`,
      identityWarning: bySerial
        ? null
        : pusb.serial === ""
          ? "no serial: named by its port, so keep it in this port"
          : "another device of the same model has this serial: named by its port, so keep it in this port",
    };
  });
  return { target, host: { uuid: hostUuid, nameLabel: host?.name_label ?? "" }, devices };
}

export function formatUsbJson(report: UsbReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** One block per device: what it is, who has it, and the line to paste. */
export function formatUsbTable(report: UsbReport): string {
  const lines = [`USB devices of ${report.host.nameLabel} (${report.host.uuid}), via ${report.target}:`];
  if (report.devices.length === 0) {
    lines.push(
      "  none listed. Plug the device in and run `xe pusb-scan host-uuid=<host uuid>`; dom0's USB policy",
      "  (/etc/xensource/usb-policy.conf) hides hubs, keyboards and some CDC devices.",
    );
  }
  for (const device of report.devices) {
    lines.push("");
    lines.push(
      `  port ${device.path}  ${device.vendorId}:${device.productId}  ${device.vendor} ${device.product}`.trimEnd(),
    );
    lines.push(`    serial:       ${device.serial ?? "(none)"}`);
    lines.push(
      `    passthrough:  ${device.passthroughEnabled ? "enabled" : "disabled"}` +
        (device.enabledBy === null ? "" : ` (by PassthroughUsb ${device.enabledBy})`),
    );
    const vusb = device.vusb;
    lines.push(
      vusb === null
        ? "    given to:     no VM"
        : `    given to:     VM "${vusb.vm.nameLabel}" (${vusb.vm.powerState}, ${vusb.attached ? "attached" : "not attached"})` +
            (vusb.managedBy === null
              ? ", VUSB made outside this provider"
              : `, managed by PassthroughUsb ${vusb.managedBy}`),
    );
    lines.push(`    paste:        ${device.paste}`);
    if (device.identityWarning !== null) lines.push(`    note:         ${device.identityWarning}`);
  }
  return `${lines.join("\n")}\n`;
}
