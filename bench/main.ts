/**
 * `npm run bench [-- --json] [--runs N] [--layout "<name>"]... [--profile <name>]
 * [--one-way-delay-ms <ms>] [--no-hand-rolled]`: runs the benchmark against dom0 sandboxes and
 * prints one table (or, with --json, the same as JSON). Needs root on Linux (the sandbox does).
 */
import { profiles } from "xen-sandbox";
import { LAYOUTS, type Layout } from "./layouts";
import { runBench, samplesPerRun } from "./run";
import { floorNotes, formatTable, toRows } from "./summary";
import { USB_LAYOUT_NAME, formatUsbTable, runUsbBench, type UsbRow } from "./usb";

/**
 * Choice: 1 ms each way (2 ms round trip), a homelab network between the CI runner and the host
 * (a wired LAN is faster, Wi-Fi or a VPN slower); Node timers cannot go below 1 ms anyway.
 */
export const DEFAULT_ONE_WAY_DELAY_MS = 1;

/**
 * Choice: five runs, enough for a median that one disturbed run does not move and a least that
 * the floor can trust, while the whole benchmark stays under ~25 minutes on 2 cores.
 */
export function defaultRuns(_layout: Layout): number {
  return 5;
}

interface Cli {
  json: boolean;
  runs: number | undefined;
  layouts: Layout[];
  /** The USB row (`--layout "1 USB stick"`; in the full bench by default). */
  usb: boolean;
  profile: string;
  oneWayDelayMs: number;
  handRolled: boolean;
}

function parseCli(argv: readonly string[]): Cli {
  const cli: Cli = {
    json: false,
    runs: undefined,
    layouts: [],
    usb: false,
    profile: "realistic",
    oneWayDelayMs: DEFAULT_ONE_WAY_DELAY_MS,
    handRolled: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case "--json":
        cli.json = true;
        break;
      case "--no-hand-rolled":
        cli.handRolled = false;
        break;
      case "--runs":
        cli.runs = positiveInteger(flag, value());
        break;
      case "--profile":
        cli.profile = value();
        break;
      case "--one-way-delay-ms":
        cli.oneWayDelayMs = Number(value());
        break;
      case "--layout": {
        const name = value();
        if (name === USB_LAYOUT_NAME) {
          cli.usb = true;
          break;
        }
        const layout = LAYOUTS.find((candidate) => candidate.name === name);
        if (layout === undefined) {
          throw new Error(
            `no layout "${name}"; choose from: ${[...LAYOUTS.map((l) => l.name), USB_LAYOUT_NAME].map((n) => `"${n}"`).join(", ")}`,
          );
        }
        cli.layouts.push(layout);
        break;
      }
      default:
        throw new Error(`unknown argument "${flag}"; see bench/main.ts for the options`);
    }
  }
  if (cli.layouts.length === 0 && !cli.usb) {
    cli.layouts = [...LAYOUTS];
    cli.usb = true;
  }
  return cli;
}

function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} wants a whole number >= 1, got "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2));
  const profile = profiles[cli.profile];
  if (profile === undefined) {
    throw new Error(`no profile "${cli.profile}"; choose from: ${Object.keys(profiles).join(", ")}`);
  }
  const started = performance.now();
  const progress = (line: string) =>
    process.stderr.write(
      `bench: [${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`,
    );
  const results =
    cli.layouts.length === 0
      ? []
      : await runBench({
          layouts: cli.layouts,
          runs: (layout) => cli.runs ?? defaultRuns(layout),
          profile,
          oneWayDelayMs: cli.oneWayDelayMs,
          handRolled: cli.handRolled,
          progress,
        });
  const usbRows: UsbRow[] = cli.usb
    ? await runUsbBench({
        runs: cli.runs ?? 5,
        profile,
        oneWayDelayMs: cli.oneWayDelayMs,
        handRolled: cli.handRolled,
        progress,
      })
    : [];
  const rows = toRows(results);
  const totalSeconds = (performance.now() - started) / 1000;
  const settings = { profile: profile.name, oneWayDelayMs: cli.oneWayDelayMs, totalSeconds };
  if (cli.json) {
    process.stdout.write(`${JSON.stringify({ settings, rows, results, usb: usbRows }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `xen-passthrough benchmark: profile "${profile.name}", latency proxy ${cli.oneWayDelayMs} ms each way, ` +
      `total ${totalSeconds.toFixed(0)} s\n` +
      `each run: the floor's probe, ours, hand (refresh: ${samplesPerRun("refresh")} samples of each per run); ` +
      `runs go round the layouts (run 1 of each, then run 2...); ` +
      `"med"/"min" = median/least of the samples; "x floor" = ours med / floor; ` +
      `"ready"/"1st SSH byte" = ms from the provider process's start to ready for the first call ` +
      `(where "ours" starts) / to its first SSH byte (medians); ` +
      `counts are per command, all hosts together (median run), and SSH connections/XAPI logins per host; ` +
      `"hand" = hand-rolled ssh + udev + xe per disk; speed-up = hand med / ours med\n\n` +
      (results.length === 0 ? "" : `${formatTable(rows)}\n\n${floorNotes(results, cli.oneWayDelayMs)}\n`) +
      (usbRows.length === 0 ? "" : `\n${formatUsbTable(usbRows)}\n`),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
