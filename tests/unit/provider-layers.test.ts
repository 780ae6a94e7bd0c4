// The provider's layers hold and no module imports itself back: read from the compiled package
// (provider/dist), where `require` calls are the run-time imports and the .d.ts files keep the
// type-only ones. A change that breaks a direction or closes a cycle fails here with its path.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const DIST = resolve(__dirname, "../../../provider/dist");
const SRC = resolve(__dirname, "../../../provider/src");

/**
 * Which layers each layer may import (its own always). Read it downwards: core is pure and
 * imports nothing; xapi (calls and record types), dom0 (scripts run on dom0) and adapters (SSH,
 * HTTPS) build on core only; look assembles what one look at a host saw; lifecycle and cli use
 * them all. "." is the package's entry (index, resource, serialized provider).
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  core: [],
  xapi: ["core"],
  dom0: ["core"],
  adapters: ["core"],
  look: ["core", "xapi", "dom0"],
  lifecycle: ["core", "xapi", "dom0", "adapters", "look"],
  cli: ["core", "xapi", "dom0", "adapters", "look"],
  ".": ["core"],
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Module (dist path without extension) -> the modules of the package it imports. */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of filesUnder(DIST).filter((f) => /\.(js|d\.ts)$/.test(f))) {
    const module = relative(DIST, file).replace(/\.(js|d\.ts)$/, "");
    // An incremental build leaves the outputs of deleted modules behind: they are not the package.
    if (!existsSync(join(SRC, `${module}.ts`))) continue;
    const text = readFileSync(file, "utf8");
    const specifiers = [
      ...text.matchAll(/require\("(\.[^"]+)"\)/g),
      ...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/g),
      ...text.matchAll(/import\("(\.[^"]+)"\)/g),
    ].map((match) => match[1] ?? "");
    const targets = graph.get(module) ?? new Set<string>();
    for (const specifier of specifiers) {
      if (specifier.endsWith(".json")) continue;
      targets.add(relative(DIST, resolve(dirname(file), specifier)).replace(/\.js$/, ""));
    }
    graph.set(module, targets);
  }
  return graph;
}

const layerOf = (module: string) => (module.includes("/") ? module.slice(0, module.indexOf("/")) : ".");

const graph = importGraph();

test("every module belongs to a layer of the table", () => {
  expect(graph.size).toBeGreaterThan(50);
  const unknown = [...graph.keys()].filter((module) => MAY_IMPORT[layerOf(module)] === undefined);
  expect(unknown).toEqual([]);
});

/** Imports against the table, as "from -> to". */
function breaksIn(imports: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const breaks: string[] = [];
  for (const [module, targets] of imports) {
    const layer = layerOf(module);
    for (const target of targets) {
      const to = layerOf(target);
      if (to !== layer && !(MAY_IMPORT[layer] ?? []).includes(to)) breaks.push(`${module} -> ${target}`);
    }
  }
  return breaks;
}

/** Each cycle found, as "a -> b -> a". */
function cyclesIn(imports: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (module: string, path: string[]) => {
    if (state.get(module) === "done") return;
    if (state.get(module) === "open") {
      cycles.push([...path.slice(path.indexOf(module)), module].join(" -> "));
      return;
    }
    state.set(module, "open");
    for (const target of imports.get(module) ?? []) visit(target, [...path, module]);
    state.set(module, "done");
  };
  for (const module of [...imports.keys()].sort()) visit(module, []);
  return cycles;
}

test("every import goes in an allowed direction", () => {
  expect(breaksIn(graph)).toEqual([]);
});

test("no import cycle", () => {
  expect(cyclesIn(graph)).toEqual([]);
});

test("the checks catch a break and a cycle", () => {
  const bad = new Map([
    ["core/view", new Set(["xapi/vm", "core/rule"])],
    ["core/rule", new Set(["core/view"])],
    ["lifecycle/apply", new Set(["xapi/vm"])],
    ["xapi/vm", new Set<string>()],
  ]);
  expect(breaksIn(bad)).toEqual(["core/view -> xapi/vm"]);
  expect(cyclesIn(bad)).toEqual(["core/rule -> core/view -> core/rule"]);
});
