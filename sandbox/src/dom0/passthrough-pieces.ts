// Every piece of a passthrough on the sandbox host, whoever made it: the udev rules the provider
// writes (65-xen-passthrough-*.rules), the /dev/xapi/block symlinks, the VDIs of the udev SR and
// the VBDs carrying the provider's tag. Leak and duplicate checks compare these with the state.
import type { SimulatorState } from "../xapi";

/** The provider's rule files and VBD tag key (provider/src/core/rule.ts, provider/src/xapi/vbd.ts). */
export const RULE_GLOB = "/etc/udev/rules.d/65-xen-passthrough-*.rules";
export const VBD_TAG_KEY = "xen-passthrough";

export interface PassthroughPieces {
  /** Rule path -> its text. */
  rules: Map<string, string>;
  /** Symlink path -> the kernel name it resolves to. */
  symlinks: Map<string, string>;
  /** VDIs of the udev SR ("Removable storage"). */
  vdis: SimulatorState["vdis"];
  /** VBDs with the provider's tag. */
  taggedVbds: SimulatorState["vbds"];
}

/** Pure: reads the listing the shell command below prints, plus the simulator's state. */
export function parsePieces(listing: string, state: SimulatorState): PassthroughPieces {
  const rules = new Map<string, string>();
  const symlinks = new Map<string, string>();
  for (const block of listing.split("\u0000").filter((part) => part.trim() !== "")) {
    const [head, ...rest] = block.replace(/^\n/, "").split("\n");
    if (head?.startsWith("rule ")) rules.set(head.slice(5), rest.join("\n"));
    else if (head?.startsWith("link ")) {
      const [path, target] = head.slice(5).split(" -> ");
      if (path !== undefined) symlinks.set(path, (target ?? "").replace(/^.*\//, ""));
    }
  }
  const removable = new Set(
    state.srs.filter((sr) => sr.nameLabel === "Removable storage").map((sr) => sr.ref),
  );
  return {
    rules,
    symlinks,
    vdis: state.vdis.filter((vdi) => removable.has(vdi.sr)),
    taggedVbds: state.vbds.filter((vbd) => vbd.otherConfig[VBD_TAG_KEY] !== undefined),
  };
}

/** The dom0 command whose output parsePieces reads (NUL-separated blocks). */
export const LIST_PIECES_COMMAND = [
  `for r in ${RULE_GLOB}; do [ -e "$r" ] && printf '\\000rule %s\\n' "$r" && cat "$r"; done`,
  `for l in /dev/xapi/block/*; do [ -e "$l" ] || [ -L "$l" ] && printf '\\000link %s -> %s\\n' "$l" "$(readlink "$l")"; done`,
  "true",
].join("; ");

/** The passthrough pieces on a sandbox host now. */
export async function listPieces(host: {
  exec(command: string): Promise<{ stdout: string }>;
  simulator: { control: { state(): SimulatorState } };
}): Promise<PassthroughPieces> {
  const { stdout } = await host.exec(LIST_PIECES_COMMAND);
  return parsePieces(stdout, host.simulator.control.state());
}

/** Pure: the pieces as one line each, for messages and leak reports. */
export function describePieces(pieces: PassthroughPieces): string[] {
  return [
    ...[...pieces.rules.keys()].map((path) => `rule ${path}`),
    ...[...pieces.symlinks].map(([path, target]) => `symlink ${path} -> ${target}`),
    ...pieces.vdis.map((vdi) => `VDI ${vdi.uuid} at ${vdi.location}`),
    ...pieces.taggedVbds.map((vbd) => `VBD ${vbd.uuid} tagged ${vbd.otherConfig[VBD_TAG_KEY]}`),
  ];
}
