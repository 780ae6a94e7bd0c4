// The defaults and ranges of the resource's inputs: one table each, read by the schema
// (core/schema.ts), the CLI, the docs test and the resource's Args documentation.

/** Defaults of the SSH settings (the same as @pulumi/command where the field comes from it). */
export const SSH_DEFAULTS = {
  port: 22,
  user: "root",
  dialErrorLimit: 10,
  perDialTimeout: 15,
  insecureSkipHostKeyCheck: false,
} as const;

/** Defaults of the direct-XAPI settings. */
export const XAPI_DEFAULTS = {
  username: "root",
  allowUnauthorized: false,
} as const;

/**
 * Seconds of `operationTimeout` when it is not set. Applied where the wait happens (not written
 * into the checked inputs), so states written before it existed show no change.
 */
export const DEFAULT_OPERATION_TIMEOUT_SECONDS = 300;

/** Defaults of the resource's own inputs. */
export const DEFAULTS = {
  mode: "RW",
  userdevice: "autodetect",
  bootable: false,
  attach: true,
  adopt: false,
  setAffinity: false,
  symlinkTimeoutSeconds: 60,
} as const;

/** Bounds of the numeric inputs (every remote wait is bounded). */
export const LIMITS = {
  port: { min: 1, max: 65535 },
  dialErrorLimit: { min: 1, max: 100 },
  perDialTimeout: { min: 1, max: 600 },
  operationTimeout: { min: 1, max: 3600 },
  symlinkTimeoutSeconds: { min: 1, max: 600 },
} as const;
