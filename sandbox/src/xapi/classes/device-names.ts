/** Disk numbers <-> Linux device names (0 = xvda/hda/sda), as XAPI expands userdevice values. */

const NAME = /^(xvd|hd|sd)([a-p])(\d*)$/;

/** The disk number a userdevice denotes ("1" and "xvdb" both denote 1), or undefined if malformed. */
export function diskNumber(userdevice: string): number | undefined {
  if (/^\d+$/.test(userdevice)) return Number(userdevice);
  const match = NAME.exec(userdevice);
  if (match === null || match[3] !== "") return undefined;
  return (match[2] ?? "a").charCodeAt(0) - "a".charCodeAt(0);
}

/** XAPI's valid_device: "autodetect", a number, or xvd/hd/sd a..p with an optional partition number. */
export function isValidUserdevice(userdevice: string): boolean {
  return userdevice === "autodetect" || /^\d+$/.test(userdevice) || NAME.test(userdevice);
}

/** Every spelling of the same disk, used to detect clashes (XAPI: possible_VBD_devices_of_string). */
export function equivalentDevices(userdevice: string): string[] {
  const n = diskNumber(userdevice);
  if (n === undefined) return [userdevice];
  const out = [String(n)];
  if (n < 26) {
    const letter = String.fromCharCode("a".charCodeAt(0) + n);
    out.push(`xvd${letter}`, `hd${letter}`, `sd${letter}`);
  }
  return out;
}

/** The guest device name a plugged VBD gets (XAPI fills VBD.device on plug). */
export function linuxDeviceName(userdevice: string): string {
  const n = diskNumber(userdevice) ?? 0;
  let name = "";
  let rest = n;
  do {
    name = String.fromCharCode("a".charCodeAt(0) + (rest % 26)) + name;
    rest = Math.floor(rest / 26) - 1;
  } while (rest >= 0);
  return `xvd${name}`;
}
