import { shellQuote } from "../core/shell.js";

/**
 * The only command line we ever send. It reads a length line, then exactly that many bytes of
 * script, and runs the script with the rest of stdin as the script's own stdin. Scripts and
 * their data thus travel on stdin and never through a command line (no quoting, no argv
 * length limit, nothing in `ps`). The trailing "x" keeps `$(...)` from eating final newlines.
 * `--norc`: bash sources ~/.bashrc when started by sshd, even non-interactive, which cost
 * 100-250 ms per command on a test host (and lets a user's rc file change our scripts' behaviour).
 */
export const BOOTSTRAP_COMMAND =
  `exec bash --norc --noprofile -c 'IFS= read -r n || exit 96; s=$(head -c "$n"; printf x) || exit 96; ` +
  `exec bash --norc --noprofile -c "\${s%x}" xen-passthrough'`;

/** Exit code of `readFile`'s script when the file does not exist. */
export const ABSENT_EXIT_CODE = 66;

/** What goes on stdin: "<byte length>\n", the script, then the script's own input. */
export function framedStdin(script: string, stdin: string | undefined): Buffer {
  const body = Buffer.from(script, "utf8");
  return Buffer.concat([Buffer.from(`${body.length}\n`), body, Buffer.from(stdin ?? "", "utf8")]);
}

export function readFileScript(path: string): string {
  return `f=${shellQuote(path)}\n[ -e "$f" ] || exit ${ABSENT_EXIT_CODE}\nexec cat -- "$f"\n`;
}

/** Writes stdin to a temp file beside `path`, then renames it over `path` (atomic on one fs). */
export function writeFileAtomicScript(path: string, mode: number): string {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new RangeError(`invalid file mode ${mode}`);
  return [
    "set -eu",
    `f=${shellQuote(path)}`,
    't=$(mktemp "$(dirname -- "$f")/.xen-passthrough.XXXXXX")',
    "trap 'rm -f -- \"$t\"' EXIT",
    'cat > "$t"',
    `chmod ${mode.toString(8).padStart(4, "0")} "$t"`,
    'mv -f -- "$t" "$f"',
    "trap - EXIT",
    "",
  ].join("\n");
}
