/**
 * The USB row of the benchmark: one PassthroughUsb (the sandbox's Zigbee stick given to a VM)
 * created, refreshed and deleted by our provider (a fresh dynamic-provider host per command, as
 * `pulumi up` runs it), next to its floor and to the hand-rolled `xe` chain a user would run over
 * SSH (pusb-list, pusb-param-set passthrough-enabled=true, vusb-create; delete: vusb-destroy,
 * pusb-param-set passthrough-enabled=false), on one sandbox host behind the latency proxy.
 */
import { DEFAULT_USB_DEVICE, serializeResource } from "xen-sandbox";
import type { Engine, ServiceTimeProfile, Stored } from "xen-sandbox";
import type { FloorProfile, FloorTerm, Network } from "./floor";
import { startHosts, type BenchHost } from "./hosts";
import { REPO_ROOT, startProviderEngine } from "./provider-host";
import { runOverFreshConnection } from "./ssh-command";
import { median } from "./summary";

/** The name `--layout` selects the USB row by. */
export const USB_LAYOUT_NAME = "1 USB stick";

export type UsbOperation = "create" | "refresh" | "delete";
export const USB_RUN_ORDER: readonly UsbOperation[] = ["create", "refresh", "delete"];

export interface UsbRow {
  readonly operation: UsbOperation;
  readonly floorMs: number;
  readonly floor: readonly FloorTerm[];
  readonly oursMs: readonly number[];
  readonly handMs: readonly number[];
}

const STICK = {
  vendorId: DEFAULT_USB_DEVICE.vendorId,
  productId: DEFAULT_USB_DEVICE.productId,
  serial: DEFAULT_USB_DEVICE.serial,
};

/**
 * The floor of a USB operation, from the simulator's profile and the network alone: the XAPI
 * login and the calls any client must make, one after another (each needs the one before). Left
 * out, as the disk rows leave out what a minimal client cannot avoid only by our design: the SSH
 * connection our provider opens (for dom0's INSTALLATION_UUID and the XAPI tunnel), so "x floor"
 * includes that set-up.
 */
export function usbFloorOf(operation: UsbOperation, profile: FloorProfile, network: Network): FloorTerm[] {
  const rtt = 2 * network.oneWayDelayMs;
  const call = rtt + profile.baseLatencyMs;
  const extra = (method: string) => profile.methodExtraMs[method] ?? 0;
  const terms: FloorTerm[] = [
    { name: "XAPI login", ms: rtt + call + profile.loginMs.local, source: "profile" },
    { name: "lookup of PUSBs, VMs and VUSBs (one batch)", ms: call, source: "profile" },
  ];
  const add = (name: string, method: string) =>
    terms.push({ name, ms: call + extra(method), source: "profile" });
  if (operation === "create") {
    add("PUSB.set_passthrough_enabled true", "PUSB.set_passthrough_enabled");
    add("VUSB.create", "VUSB.create");
  }
  if (operation === "delete") {
    add("VUSB.destroy", "VUSB.destroy");
    add("PUSB.set_passthrough_enabled false", "PUSB.set_passthrough_enabled");
  }
  return terms;
}

/** The hand-rolled chain: what a user would put in a remote command, one per operation. */
export function usbHandScript(operation: UsbOperation, vmUuid: string, before: string): string {
  const [pusb = "", vusb = ""] = before.split(" ");
  switch (operation) {
    case "create":
      return [
        "set -eu",
        `P=$(xe pusb-list vendor-id=${STICK.vendorId} product-id=${STICK.productId} serial='${STICK.serial}' --minimal)`,
        `[ -n "$P" ] || { echo "USB device not found" >&2; exit 3; }`,
        `xe pusb-param-set uuid="$P" passthrough-enabled=true`,
        `G=$(xe pusb-list uuid="$P" params=usb-group-uuid --minimal)`,
        `V=$(xe vusb-create usb-group-uuid="$G" vm-uuid='${vmUuid}')`,
        `echo "$P $V"`,
      ].join("\n");
    case "refresh":
      return [
        "set -eu",
        `xe vusb-list uuid='${vusb}' params=currently-attached --minimal`,
        `xe pusb-param-get uuid='${pusb}' param-name=passthrough-enabled --minimal`,
      ].join("\n");
    case "delete":
      return [
        "set -eu",
        `xe vusb-destroy uuid='${vusb}'`,
        `xe pusb-param-set uuid='${pusb}' passthrough-enabled=false`,
      ].join("\n");
  }
}

async function usbProvider(): Promise<string> {
  const args = {
    connection: { host: "127.0.0.1", privateKey: "placeholder", hostKey: "ssh-ed25519 AAAA" },
    device: { ...STICK, serial: "PLACEHOLDER" },
    vm: { nameLabel: "placeholder" },
  };
  const serialized = await serializeResource(args, {
    packageName: "pulumi-xen-passthrough",
    exportName: "PassthroughUsb",
    resourceName: "usb",
    cwd: REPO_ROOT,
  });
  return serialized.provider;
}

const OURS: Record<
  UsbOperation,
  (engine: Engine, args: Record<string, unknown>, stored: Stored | undefined) => Promise<Stored | undefined>
> = {
  create: (engine, args) => engine.create(args),
  refresh: async (engine, _args, stored) => {
    const refreshed = stored === undefined ? undefined : await engine.refresh(stored);
    if (refreshed === undefined) throw new Error("refresh lost the PassthroughUsb");
    const drift = refreshed.state["drift"];
    if (Array.isArray(drift) && drift.length > 0) throw new Error(`refresh found drift: ${drift.join("; ")}`);
    return refreshed;
  },
  delete: async (engine, _args, stored) => {
    if (stored !== undefined) await engine.destroy(stored);
    return undefined;
  },
};

export interface UsbBenchOptions {
  readonly runs: number;
  readonly profile: ServiceTimeProfile;
  readonly oneWayDelayMs: number;
  readonly handRolled: boolean;
  readonly progress?: (line: string) => void;
}

/** Each run: ours create, refresh, delete, then the hand-rolled chain's, on the same host. */
export async function runUsbBench(options: UsbBenchOptions): Promise<UsbRow[]> {
  const say = options.progress ?? (() => undefined);
  const provider = await usbProvider();
  const hosts = await startHosts({
    needs: [{ vms: 1, disks: 1 }],
    profile: options.profile,
    oneWayDelayMs: options.oneWayDelayMs,
  });
  const ours = new Map<UsbOperation, number[]>(USB_RUN_ORDER.map((op) => [op, []]));
  const hand = new Map<UsbOperation, number[]>(USB_RUN_ORDER.map((op) => [op, []]));
  try {
    const host = hosts.hosts[0];
    if (host === undefined) throw new Error("the USB bench's host did not start");
    for (let run = 1; run <= options.runs; run++) {
      let stored: Stored | undefined;
      for (const operation of USB_RUN_ORDER) {
        say(`${USB_LAYOUT_NAME}, run ${run}: ours ${operation}`);
        const { engine } = await startProviderEngine(provider);
        try {
          const started = performance.now();
          stored = await OURS[operation](engine, argsOf(host), stored);
          ours.get(operation)?.push(performance.now() - started);
        } finally {
          await engine.host.stop();
        }
      }
      if (!options.handRolled) continue;
      let outputs = "";
      const vmUuid = host.vmUuids[0] ?? "";
      for (const operation of USB_RUN_ORDER) {
        say(`${USB_LAYOUT_NAME}, run ${run}: hand-rolled ${operation}`);
        const started = performance.now();
        const out = await runOverFreshConnection(host.ssh, usbHandScript(operation, vmUuid, outputs));
        hand.get(operation)?.push(performance.now() - started);
        if (operation === "create") outputs = out.trim();
      }
    }
  } finally {
    await hosts.stop();
  }
  const network = { oneWayDelayMs: options.oneWayDelayMs };
  return USB_RUN_ORDER.map((operation) => {
    const floor = usbFloorOf(operation, options.profile, network);
    return {
      operation,
      floorMs: floor.reduce((sum, term) => sum + term.ms, 0),
      floor,
      oursMs: ours.get(operation) ?? [],
      handMs: hand.get(operation) ?? [],
    };
  });
}

function argsOf(host: BenchHost): Record<string, unknown> {
  const { host: address, port, user, privateKey, hostKey } = host.ssh;
  return {
    connection: { host: address, port, user, privateKey, hostKey },
    device: STICK,
    vm: { nameLabel: host.vmNames[0] ?? "" },
  };
}

/** The USB rows as a table, beside the disk table. */
export function formatUsbTable(rows: readonly UsbRow[]): string {
  const ms = (value: number) => `${value.toFixed(0)} ms`;
  const lines = [
    `${USB_LAYOUT_NAME}: operation | ours med / min | floor | x floor | hand med | speed-up`,
    ...rows.map((row) => {
      const oursMed = median(row.oursMs);
      const handMed = row.handMs.length === 0 ? undefined : median(row.handMs);
      return [
        row.operation,
        `${ms(oursMed)} / ${ms(Math.min(...row.oursMs))}`,
        ms(row.floorMs),
        row.floorMs > 0 ? `${(oursMed / row.floorMs).toFixed(1)}x` : "-",
        handMed === undefined ? "-" : ms(handMed),
        handMed === undefined ? "-" : `${(handMed / oursMed).toFixed(1)}x`,
      ].join(" | ");
    }),
    "USB floor terms (profile): " +
      rows
        .map(
          (row) => `${row.operation}: ${row.floor.map((t) => `${t.name} ${t.ms.toFixed(0)} ms`).join(" + ")}`,
        )
        .join("; ") +
      ". The SSH connection our provider opens is not in the floor.",
  ];
  return lines.join("\n");
}
