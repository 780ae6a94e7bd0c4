import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";

import type { Namespace } from "./namespace";
import { run } from "./run";

/** Perl's crypt() is libc's crypt(3), the one sshd checks with; perl-base is Essential on Debian. */
const CRYPT_SCRIPT = "$salt = shift; $password = <STDIN>; chomp $password; print crypt($password, $salt);";

/** Gives root a generated password in the namespace's private /etc/shadow (the host's stays untouched). */
export async function setRootPassword(namespace: Namespace, password: string): Promise<void> {
  const salt = `$6$${randomBytes(12).toString("base64").replace(/[+=]/g, ".")}$`;
  const { stdout } = await run("perl", ["-e", CRYPT_SCRIPT, salt], `${password}\n`);
  const shadowPath = namespace.outside("/etc/shadow");
  await writeFile(shadowPath, withRootHash(await readFile(shadowPath, "utf8"), stdout.trim()));
}

/** Pure: a shadow file whose root entry has the password hash `hash`. */
export function withRootHash(shadow: string, hash: string): string {
  return shadow
    .split("\n")
    .map((line) => {
      const fields = line.split(":");
      if (fields[0] !== "root") return line;
      fields[1] = hash;
      return fields.join(":");
    })
    .join("\n");
}
