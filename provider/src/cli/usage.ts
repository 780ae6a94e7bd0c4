/** What `xen-passthrough --help` prints. */
export const USAGE = `Usage: xen-passthrough disks --host HOST [options]
       xen-passthrough usb --host HOST [options]

disks: lists the whole disks of a XenServer / XCP-ng host: model, size, serial, WWN and by-id
name, whether dom0 uses them, which are passed through already (and to which VM), and the
\`disk:\` identity to paste into a PassthroughDisk.

usb: lists the host's USB devices as XAPI's scan reports them (dom0's USB policy hides hubs,
keyboards and some CDC devices): vendor and product, serial, port, whether passthrough is
enabled, which VM has each (attached or not), and the \`device:\` identity to paste into a
PassthroughUsb.

SSH to dom0 (XAPI is reached through it unless --xapi-url is given):
  --host HOST                   host name or address of the XenServer / XCP-ng host (required)
  --port PORT                   SSH port (default 22)
  --user USER                   SSH user (default root)
  --private-key-file FILE       private key (OpenSSH or PEM); an SSH agent (SSH_AUTH_SOCK) also works
  --private-key-passphrase-env VAR
                                read the private key's passphrase from environment variable VAR
  --password-env VAR            read the SSH password from environment variable VAR
  --host-key "TYPE BASE64"      the host's public key ("ssh-ed25519 AAAA...") or its "SHA256:..." fingerprint
  --host-key-file FILE          read the host key from a file (e.g. a copy of ssh_host_ed25519_key.pub)
  --insecure-skip-host-key-check
                                do not verify the host key (throw-away hosts only)

Direct XAPI over HTTPS (optional):
  --xapi-url URL                https://<pool master>[:port]
  --xapi-user USER              XAPI user (default root)
  --xapi-password-env VAR       read the XAPI password from environment variable VAR (required with --xapi-url)
  --tls-fingerprint FP          SHA-256 fingerprint of the XAPI certificate (pinned)

Output:
  --json                        one JSON document for scripts instead of the table
  --all                         (disks) also list virtual block devices (dm, md, zram, nbd, tapdisk) and empty drives

Secrets are only ever read from files or environment variables, never from option values.
Without --host-key the first run fails and prints the host's fingerprint and the --host-key to use,
once you have checked that fingerprint out of band.
Exit codes: 0 done, 1 the host could not be read (connection, host key, XAPI), 2 wrong command line.`;
