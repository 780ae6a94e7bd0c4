// `npm run demo` and `npm test` run this first: on a fresh Debian/Ubuntu machine, as root, it
// installs what the dom0 sandbox needs (saying so first); otherwise it does nothing and the
// sandbox's prerequisite check (or the test host tier) gives its usual message.
import { spawnSync } from "node:child_process";

import { installNotice, planHostPackages, TEST_TOOLS } from "./host-packages";
import { currentPlatform, PASSWORD_TOOLS, TOOLS } from "./prerequisites";

function run(program: string, args: readonly string[]): void {
  const result = spawnSync(program, args, {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (result.status !== 0) {
    throw new Error(
      `${program} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`})`,
    );
  }
}

function main(): void {
  const platform = currentPlatform();
  const plan = planHostPackages(
    { platform, hasApt: platform.which("apt-get") !== undefined, env: process.env },
    // `--for-tests`: npm test also runs the Python XML-RPC client against the simulator.
    [...TOOLS, ...PASSWORD_TOOLS, ...(process.argv.includes("--for-tests") ? TEST_TOOLS : [])],
  );
  if (plan.action === "none") return;
  process.stderr.write(installNotice(plan.packages));
  run("apt-get", ["update", "-qq"]);
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...plan.packages]);
}

try {
  main();
} catch (error) {
  process.stderr.write(`xen-passthrough: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
