// Start-up cost of the provider in fresh node processes: the time to load the lifecycle entry and
// run check (what a preview pays), and to load the host parts a create needs before it can dial
// SSH. Builds given as lifecycle entry paths run interleaved (A, B, A, B...) so a loaded machine
// skews them alike. Usage: node bench/dist/startup.js [--runs N] [lifecycle/index.js ...]
import { execFileSync } from "node:child_process";

const props = {
  connection: {
    host: "xen1.lan",
    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n",
  },
  disk: { serial: "S3Z1NB0K123456X" },
  vm: { nameLabel: "nas" },
};

/** One fresh process: ms from its start to check done (preview) and to create's parts loaded. */
function sample(entry: string): { preview: number; create: number } {
  const script = `
    const t0 = performance.timeOrigin;
    const l = require(${JSON.stringify(entry)});
    (async () => {
      await l.check({}, ${JSON.stringify(props)});
      const preview = performance.timeOrigin + performance.now() - t0;
      await l.create({}).catch(() => undefined);
      const create = performance.timeOrigin + performance.now() - t0;
      process.stdout.write(JSON.stringify({ preview, create }));
    })();`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" })) as {
    preview: number;
    create: number;
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 9;
const entries = args.length > 0 ? args : [require.resolve("pulumi-xen-passthrough/lifecycle")];
const samples = entries.map(() => ({ preview: [] as number[], create: [] as number[] }));
for (let i = 0; i < runs; i++) {
  entries.forEach((entry, k) => {
    const s = sample(entry);
    samples[k]?.preview.push(s.preview);
    samples[k]?.create.push(s.create);
  });
}
entries.forEach((entry, k) => {
  const s = samples[k];
  if (!s) return;
  console.log(
    `${entry}\n  preview (load + check): median ${median(s.preview).toFixed(0)} ms, min ${Math.min(...s.preview).toFixed(0)} ms` +
      `\n  create (ready to dial SSH): median ${median(s.create).toFixed(0)} ms, min ${Math.min(...s.create).toFixed(0)} ms`,
  );
});
