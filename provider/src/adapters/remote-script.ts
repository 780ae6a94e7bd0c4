import { shellQuote } from "../core/shell-quote.js";

/**
 * The only command line we ever send. It reads a header line "<script bytes> <timeout s>",
 * then exactly that many bytes of script, and runs the script from a file descriptor with the
 * rest of stdin as the script's own stdin. Scripts thus travel on stdin, never in a command
 * line or argv (no quoting, no size limit, nothing in `ps`). The trailing "x" keeps `$(...)`
 * from eating final newlines. A timeout is enforced on the host by coreutils `timeout` (TERM,
 * KILL 2 s later, to the script's whole process group; exit 124), so a script outliving it
 * is stopped even if the client is gone: closing an SSH channel does not stop the command.
 * `--norc`: bash sources ~/.bashrc when started by sshd, even non-interactive, which cost
 * 100-250 ms per command on a test host (and lets a user's rc file change our scripts' behaviour).
 */
export const BOOTSTRAP_COMMAND =
  `exec bash --norc --noprofile -c '` +
  `read -r n t || exit 96; s=$(head -c "$n"; printf x) || exit 96; ` +
  `if [ "$t" = 0 ]; then exec bash --norc --noprofile /dev/fd/3 3<<<"\${s%x}"; fi; ` +
  `exec timeout -k 2 "$t" bash --norc --noprofile /dev/fd/3 3<<<"\${s%x}"'`;

/** Exit code of a script stopped by the host-side timeout (coreutils `timeout`). */
export const TIMED_OUT_EXIT_CODE = 124;

/** Exit code of `readFile`'s script when the file does not exist. */
export const ABSENT_EXIT_CODE = 66;

/**
 * What goes on stdin: the header "<byte length> <timeout seconds, 0 for none>\n", the script,
 * then the script's own input.
 */
export function framedStdin(script: string, stdin: string | undefined, timeoutMs?: number): Buffer {
  const body = Buffer.from(script, "utf8");
  const seconds = timeoutMs === undefined ? "0" : String(Math.max(0.001, timeoutMs / 1000));
  return Buffer.concat([Buffer.from(`${body.length} ${seconds}\n`), body, Buffer.from(stdin ?? "", "utf8")]);
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

/** The first non-empty, non-comment line of a script: how errors name it. */
export function firstLine(script: string): string {
  const line = script
    .split("\n")
    .find((candidate) => candidate.trim() !== "" && !candidate.trim().startsWith("#"));
  return (line ?? "").trim();
}
