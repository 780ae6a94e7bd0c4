// Values that travel to dom0's shell as arguments of bash's `printf %b` (rule text, owner ids),
// and back. Pure.

/**
 * Pure: `text` as an argument of bash's `printf %b`, in one word of safe characters: every byte
 * outside letters, digits and plain punctuation (backslash, quotes, blanks, newlines, UTF-8)
 * becomes a \0nnn octal escape.
 */
export function printfEscaped(text: string): string {
  let escaped = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(byte);
    escaped += /^[A-Za-z0-9_.,:=+\-/{}!*?#@%&()<>;|~^[\]]$/.test(char)
      ? char
      : `\\0${byte.toString(8).padStart(3, "0")}`;
  }
  return escaped;
}

/** What bash's `printf %b` makes of printfEscaped's \\0nnn escapes: the text back. */
export function printfUnescaped(escaped: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i += 1) {
    const octal =
      escaped[i] === "\\" && escaped[i + 1] === "0" ? /^[0-7]{3}/.exec(escaped.slice(i + 2)) : null;
    if (octal !== null) {
      bytes.push(parseInt(octal[0], 8));
      i += 4;
    } else bytes.push(escaped.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8");
}
