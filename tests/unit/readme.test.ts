// The README's first program is examples/quickstart/index.ts (compiled with the other examples):
// keep the two equal, so the README never shows code that no build checks.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..", "..");

test("the README's first program is examples/quickstart/index.ts, verbatim", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## A first program"));
  const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(snippet).toBe(readFileSync(join(ROOT, "examples", "quickstart", "index.ts"), "utf8"));
});

test("the README's first USB program is examples/quickstart/usb.ts, verbatim", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## USB devices"));
  const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(snippet).toBe(readFileSync(join(ROOT, "examples", "quickstart", "usb.ts"), "utf8"));
});
