// What `npm run demo` and `npm test` decide to install before they run: only as root on Linux
// with apt, only what is missing, never when opted out; otherwise the usual prerequisite message.
import {
  installNotice,
  NO_INSTALL_VARIABLE,
  planHostPackages,
  TEST_TOOLS,
} from "xen-sandbox/dist/dom0/host-packages";
import { TOOLS, type Platform } from "xen-sandbox/dist/dom0/prerequisites";

/** A machine where the given programs are missing. */
function machine(missing: readonly string[], overrides: Partial<Platform> = {}): Platform {
  return {
    platform: "linux",
    uid: 0,
    which: (program) => (missing.some((name) => program.endsWith(name)) ? undefined : program),
    ...overrides,
  };
}

const FRESH = ["sshd", "systemd-udevd", "udevadm"];

test("a fresh Debian machine as root: installs udev and openssh-server", () => {
  expect(planHostPackages({ platform: machine(FRESH), hasApt: true, env: {} }, TOOLS)).toEqual({
    action: "install",
    packages: ["openssh-server", "udev"],
  });
});

test("with the test tools, a missing python3 is installed too; nothing missing: nothing to do", () => {
  const tools = [...TOOLS, ...TEST_TOOLS];
  expect(planHostPackages({ platform: machine(["python3"]), hasApt: true, env: {} }, tools)).toEqual({
    action: "install",
    packages: ["python3"],
  });
  expect(planHostPackages({ platform: machine([]), hasApt: true, env: {} }, tools)).toEqual({
    action: "none",
    reason: "everything is installed",
  });
});

test.each([
  ["not root", { platform: machine(FRESH, { uid: 1000 }), hasApt: true, env: {} }],
  ["not Linux", { platform: machine(FRESH, { platform: "darwin" }), hasApt: true, env: {} }],
  ["no apt-get", { platform: machine(FRESH), hasApt: false, env: {} }],
  [
    `${NO_INSTALL_VARIABLE}=1`,
    { platform: machine(FRESH), hasApt: true, env: { [NO_INSTALL_VARIABLE]: "1" } },
  ],
])("%s: installs nothing (the sandbox's own message explains)", (reason, facts) => {
  expect(planHostPackages(facts, TOOLS)).toEqual({ action: "none", reason });
});

test("an empty or 0 opt-out variable does not opt out", () => {
  for (const value of ["", "0"]) {
    const plan = planHostPackages(
      { platform: machine(FRESH), hasApt: true, env: { [NO_INSTALL_VARIABLE]: value } },
      TOOLS,
    );
    expect(plan.action).toBe("install");
  }
});

test("the notice names the packages and the way out before anything is installed", () => {
  expect(installNotice(["openssh-server", "udev"])).toBe(
    `xen-passthrough: installing the Debian packages openssh-server udev for the sandbox host (apt-get install --no-install-recommends; set ${NO_INSTALL_VARIABLE}=1 to skip this)\n`,
  );
});
