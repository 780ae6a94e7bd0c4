import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

import type { Namespace } from "../namespace";
import { productVersionOf } from "../../xapi";
import { CHECK_DEVICE_SHARING, LOCAL_DEVICE_CHANGE, renderRpm, renderXeWrapper } from "./scripts";

/** The compiled xe stand-in (sandbox/dist/dom0/xe/main.js). */
export const XE_MAIN = join(__dirname, "..", "xe", "main.js");

async function writeExecutable(namespace: Namespace, path: string, text: string): Promise<void> {
  const outside = namespace.outside(path);
  await mkdir(dirname(outside), { recursive: true });
  await writeFile(outside, text);
  await chmod(outside, 0o755);
}

/**
 * Installs xe, rpm (answering for sm at `smVersion`), local-device-change and check-device-sharing
 * in the namespace's /opt/xensource.
 */
export async function installDom0Tools(namespace: Namespace, smVersion: string): Promise<void> {
  await writeExecutable(
    namespace,
    "/opt/xensource/bin/rpm",
    renderRpm(smVersion, productVersionOf(smVersion)),
  );
  await writeExecutable(namespace, "/opt/xensource/bin/xe", renderXeWrapper(process.execPath, XE_MAIN));
  await writeExecutable(namespace, "/opt/xensource/libexec/local-device-change", LOCAL_DEVICE_CHANGE);
  await writeExecutable(namespace, "/opt/xensource/libexec/check-device-sharing", CHECK_DEVICE_SHARING);
}
