// Which storage-manager versions resolve symlinks in the udev SR's directory (sm >= 3.0.6).
import { compareDotted, parseSmVersion, smResolvesSymlinks } from "#provider/core/sm-version.js";

describe("smResolvesSymlinks", () => {
  test.each([
    ["3.2.3", true], // XCP-ng 8.3 / XenServer 8
    ["3.0.6", true], // the first release with xapi-project/sm PR #603
    ["3.0.10", true],
    ["10.0", true],
    ["3.0.5", false],
    ["2.30.8", false], // XCP-ng 8.2 / XenServer 8.2 CU1
    ["3", false],
  ])("sm %s resolves symlinks: %s", (version, resolves) => {
    expect(smResolvesSymlinks(version)).toBe(resolves);
  });

  test("an unknown version does not (kernel names work on every host)", () => {
    expect(smResolvesSymlinks(undefined)).toBe(false);
  });
});

describe("parseSmVersion", () => {
  test("takes the first dotted number rpm printed, nothing else", () => {
    expect(parseSmVersion(["3.2.3"])).toBe("3.2.3");
    expect(parseSmVersion(["package sm is not installed"])).toBeUndefined();
    expect(parseSmVersion(["", " 2.30.8 "])).toBe("2.30.8");
    expect(parseSmVersion(["3.2.3-1.xcpng8.3"])).toBeUndefined();
    expect(parseSmVersion([])).toBeUndefined();
  });
});

test("compareDotted compares part by part, numerically", () => {
  expect(compareDotted("3.0.10", "3.0.6")).toBeGreaterThan(0);
  expect(compareDotted("3", "3.0")).toBe(0);
  expect(compareDotted("2.30.8", "3.0.6")).toBeLessThan(0);
});
