import type { SshHop } from "../core/inputs.js";

/** "root@10.0.0.5:22", or "root@10.0.0.5:22 via root@bastion:22": for messages, never secret. */
export function describeTarget(
  spec: Pick<SshHop, "host" | "port" | "user"> & { readonly proxy?: Pick<SshHop, "host" | "port" | "user"> },
): string {
  const self = `${spec.user}@${formatHostPort(spec.host, spec.port)}`;
  return spec.proxy === undefined ? self : `${self} via ${describeTarget(spec.proxy)}`;
}

function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
