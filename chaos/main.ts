/**
 * `npm run chaos -- --seed N --cycles M [--same-disk] [--quiet]`: the seeded chaos run against a
 * host sandbox (needs root on Linux). Prints one line per cycle, then the summary; exits 1 when
 * anything leaked, an invariant broke, or the final converge did not end in sync.
 * `--same-disk` adds two resources naming the first disk: a copy-paste of its serial, and its
 * wwn: two (three) resources, one disk. Until one owner per disk is enforced on the host, expect that
 * to break the ownership invariant.
 */
import { runChaos } from "./run";
import { formatSummary, passed } from "./summary";

export interface ChaosCli {
  seed: number;
  cycles: number;
  sameDisk: boolean;
  quiet: boolean;
}

export function parseChaosArgs(argv: readonly string[]): ChaosCli {
  const cli: ChaosCli = { seed: 1, cycles: 10, sameDisk: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): number => {
      const text = argv[++i];
      const n = Number(text);
      if (text === undefined || !Number.isInteger(n) || n < 0)
        throw new Error(`${arg} needs a whole number, got ${text}`);
      return n;
    };
    if (arg === "--seed") cli.seed = value();
    else if (arg === "--cycles") cli.cycles = value();
    else if (arg === "--same-disk") cli.sameDisk = true;
    else if (arg === "--quiet") cli.quiet = true;
    else throw new Error(`unknown argument ${arg} (use --seed N --cycles M [--same-disk] [--quiet])`);
  }
  return cli;
}

async function main(): Promise<void> {
  const cli = parseChaosArgs(process.argv.slice(2));
  const tally = await runChaos({
    seed: cli.seed,
    cycles: cli.cycles,
    sameDisk: cli.sameDisk,
    ...(cli.quiet ? {} : { log: (line: string) => console.log(line) }),
  });
  console.log(formatSummary(tally));
  process.exitCode = passed(tally) ? 0 : 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  });
}
