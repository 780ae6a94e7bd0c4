// Symlink names per host (issue 12) without root: the host's sm version in the view, stable
// names where the udev SR resolves symlinks, the migration of kernel-named passthroughs, and the
// repair of VBDs left on another disk after two disks swapped kernel names.
import { diskInputs, look, useLifecycleHost } from "./lifecycle-fixture.js";

const host = useLifecycleHost();

afterEach(() => {
  host().dom0.smVersion = undefined;
});

test("the look reads the host's sm version: 3.x resolves symlinks, 2.30.8 and none do not", async () => {
  const { dom0, access } = host();
  const inputs = diskInputs("BOOT-0");
  for (const [version, resolves] of [
    ["3.2.3", true],
    ["2.30.8", false],
    [undefined, false],
  ] as const) {
    dom0.smVersion = version;
    const view = await look(access, inputs);
    expect({ smVersion: view.smVersion, resolvesSymlinks: view.resolvesSymlinks }).toEqual({
      smVersion: version,
      resolvesSymlinks: resolves,
    });
  }
});
