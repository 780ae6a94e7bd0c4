// zod schemas of the resource inputs: the one description of each input's values, check and
// default. The types of core/inputs.ts take each field's type from the exact variant. Two
// variants from one definition: `tolerant` accepts the preview sentinel wherever a value may be
// unknown (check during preview), `exact` does not (create/update/read/delete, where every value
// is known).
import { z } from "zod/v3";
import { ALLOW, hostKeyProblem, normalizeFingerprint, type AllowList } from "./patterns.js";
import { UNKNOWN } from "./unknown.js";
import { definedOnly } from "./defined-only.js";
import { DEFAULTS, LIMITS, SSH_DEFAULTS, XAPI_DEFAULTS } from "./input-tables.js";

/** Wraps a schema so it also accepts the unknown sentinel (tolerant) or not at all (exact). */
export type Wrap = <T extends z.ZodTypeAny>(schema: T) => T;
export const exact: Wrap = (schema) => schema;
// The type stays the real one: tolerant output is only ever handed back to the engine.
export const tolerant: Wrap = (schema) => z.union([z.literal(UNKNOWN), schema]) as unknown as typeof schema;

/** Characters that are never safe in these values, named without repeating the value (it may be hostile or secret). */
export function dangerousCharacters(value: string): string | undefined {
  if (value === "") return "is empty";
  if (/[\r\n]/.test(value)) return "contains a line break";
  if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    return "contains a control character";
  if (/["']/.test(value)) return "contains a quote";
  if (/[$`]/.test(value)) return 'contains "$" or "`" (shell expansion)';
  if (/[;&|<>\\]/.test(value)) return "contains a shell operator (; & | < > \\)";
  if (/[*?[\]{}]/.test(value)) return "contains a glob character (* ? [ ] { })";
  if (/\s/.test(value)) return "contains white space";
  return undefined;
}

/** What is wrong with a value that fails its allow-list, most specific first. */
export function describeForbidden(value: string, allow?: AllowList): string {
  const dangerous = dangerousCharacters(value);
  if (dangerous !== undefined) return dangerous;
  if (value.includes("..")) return 'contains ".."';
  if (allow?.problem !== undefined) return allow.problem;
  if (value.includes("/")) return 'contains "/"';
  return "is not in the allowed form";
}

/** zod's error map for a schema's own issues: "is required" for a missing value, else the given text. */
export function typeError(message: string): { errorMap: z.ZodErrorMap } {
  return { errorMap: (_issue, ctx) => ({ message: ctx.data === undefined ? "is required" : message }) };
}

// Unknown keys are reported one by one by toFailures; this text covers a wrong type.
export const notAnObject = typeError("must be an object");

/** A string of an allow-list; `normalize` gives it the form we compare (after the checks). */
export function allowListed(
  allow: AllowList,
  wrap: Wrap,
  extra?: (value: string) => string | undefined,
  normalize?: (value: string) => string,
) {
  const base = z.string(typeError("must be a string")).superRefine((value, ctx) => {
    if (!allow.pattern.test(value)) {
      ctx.addIssue({
        code: "custom",
        message: `${describeForbidden(value, allow)}; allowed: ${allow.allowed}`,
      });
      return;
    }
    const problem = extra?.(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });
  return wrap(normalize === undefined ? base : base.transform(normalize));
}

function secretText(wrap: Wrap, maxLength: number) {
  return wrap(
    z
      .string(typeError("must be a string"))
      .min(1, { message: "must not be empty" })
      .max(maxLength, { message: `must be at most ${maxLength} characters` }),
  );
}

function boundedInteger(wrap: Wrap, bounds: { readonly min: number; readonly max: number }) {
  const message = `must be a whole number from ${bounds.min} to ${bounds.max}`;
  return wrap(
    z.number(typeError(message)).int({ message }).min(bounds.min, { message }).max(bounds.max, { message }),
  );
}

function wholeNumber(wrap: Wrap, bounds: { readonly min: number; readonly max: number }, fallback: number) {
  return boundedInteger(wrap, bounds).default(fallback);
}

function flag(wrap: Wrap, fallback: boolean) {
  return wrap(z.boolean(typeError("must be true or false"))).default(fallback);
}

/** Partition names the kernel gives: sdb1, hda2, nvme0n1p1, mmcblk0p1, loop0p1. */
function partitionProblem(kernelName: string): string | undefined {
  if (
    /^(?:[shv]d[a-z]+|xvd[a-z]+)[0-9]+$/.test(kernelName) ||
    /^(?:nvme[0-9]+n[0-9]+|mmcblk[0-9]+|loop[0-9]+|nbd[0-9]+)p[0-9]+$/.test(kernelName)
  ) {
    return "names a partition: pass through a whole disk (for example sdb, not sdb1)";
  }
  if (/^(?:xvd|td|nbd)/.test(kernelName))
    return "names a virtual disk plugged into dom0, not a physical disk";
  return undefined;
}

function byIdProblem(name: string): string | undefined {
  return /-part[0-9]+$/.test(name)
    ? 'names a partition ("-partN"): use the by-id name of the whole disk'
    : undefined;
}

function hopShape(wrap: Wrap) {
  return {
    host: allowListed(ALLOW.host, wrap),
    port: wholeNumber(wrap, LIMITS.port, SSH_DEFAULTS.port),
    user: allowListed(ALLOW.user, wrap).default(SSH_DEFAULTS.user),
    password: secretText(wrap, 1024).optional(),
    privateKey: secretText(wrap, 32768).optional(),
    privateKeyPassword: secretText(wrap, 1024).optional(),
    agentSocketPath: allowListed(ALLOW.socketPath, wrap).optional(),
    dialErrorLimit: wholeNumber(wrap, LIMITS.dialErrorLimit, SSH_DEFAULTS.dialErrorLimit),
    perDialTimeout: wholeNumber(wrap, LIMITS.perDialTimeout, SSH_DEFAULTS.perDialTimeout),
    hostKey: allowListed(ALLOW.hostKey, wrap, hostKeyProblem).optional(),
    insecureSkipHostKeyCheck: flag(wrap, SSH_DEFAULTS.insecureSkipHostKeyCheck),
    // No default written here: states from before this setting existed must not show a change.
    operationTimeout: boundedInteger(wrap, LIMITS.operationTimeout).optional(),
  };
}

// No "needs a password or key" rule: like @pulumi/command, the SSH adapter falls back to the
// agent named by SSH_AUTH_SOCK.
/** Cross-field rules of one hop. */
function checkHop(hop: Record<string, unknown>, ctx: z.RefinementCtx): void {
  if (hop["hostKey"] !== undefined && hop["insecureSkipHostKeyCheck"] === true) {
    ctx.addIssue({
      code: "custom",
      path: ["insecureSkipHostKeyCheck"],
      message:
        "hostKey and insecureSkipHostKeyCheck are mutually exclusive: keep hostKey and remove the opt-out",
    });
  }
}

function hopSchema(wrap: Wrap) {
  return z.object(hopShape(wrap), notAnObject).strict().superRefine(checkHop).transform(definedOnly);
}

export function connectionSchema(wrap: Wrap) {
  return wrap(
    z
      .object(
        {
          ...hopShape(wrap),
          proxy: wrap(hopSchema(wrap)).optional(),
        },
        notAnObject,
      )
      .strict()
      .superRefine(checkHop)
      .transform(definedOnly),
  );
}

function xapiShape(wrap: Wrap) {
  return {
    url: allowListed(ALLOW.xapiUrl, wrap),
    username: allowListed(ALLOW.user, wrap).default(XAPI_DEFAULTS.username),
    password: secretText(wrap, 1024),
    tlsFingerprint: allowListed(
      ALLOW.tlsFingerprint,
      wrap,
      undefined,
      (value) => normalizeFingerprint(value) ?? value,
    ).optional(),
    allowUnauthorized: flag(wrap, XAPI_DEFAULTS.allowUnauthorized),
  };
}

export function xapiSchema(wrap: Wrap) {
  return wrap(
    z
      .object(xapiShape(wrap), notAnObject)
      .strict()
      .superRefine((xapi, ctx) => {
        if (xapi.tlsFingerprint !== undefined && xapi.allowUnauthorized === true) {
          ctx.addIssue({
            code: "custom",
            path: ["allowUnauthorized"],
            message:
              "tlsFingerprint and allowUnauthorized are mutually exclusive: a pinned fingerprint already decides trust",
          });
        }
      })
      .transform(definedOnly),
  );
}

/** An object of mutually exclusive optional fields of which exactly one must be set. */
export function exactlyOne<S extends z.ZodRawShape>(shape: S) {
  const keys = Object.keys(shape);
  const choices = `${keys.slice(0, -1).join(", ")} or ${keys[keys.length - 1] ?? ""}`;
  return z
    .object(shape, notAnObject)
    .strict()
    .superRefine((value, ctx) => {
      const set = keys.filter((key) => (value as Record<string, unknown>)[key] !== undefined);
      if (set.length === 0) ctx.addIssue({ code: "custom", message: `set one of ${choices}` });
      if (set.length > 1) {
        ctx.addIssue({
          code: "custom",
          message: `${set.join(" and ")} are mutually exclusive: set exactly one of ${choices}`,
        });
      }
    });
}

/** One key of T set, the others absent (so a second identity does not compile). */
type ExactlyOne<T> = {
  [K in keyof T]: { readonly [P in K]: T[K] } & { readonly [P in Exclude<keyof T, K>]?: never };
}[keyof T];

/**
 * The disk, named by exactly one stable identity (or, last resort, its kernel name).
 *
 * @example
 * const disk: DiskIdentity = { serial: "S3Z1NB0K123456X" }; // or { wwn }, { byId }, { kernelName }
 */
export type DiskIdentity = ExactlyOne<{ serial: string; wwn: string; byId: string; kernelName: string }>;

/**
 * The VM, named by exactly one of its UUID or its (unique) name label.
 *
 * @example
 * const vm: VmIdentity = { nameLabel: "nas" }; // or { uuid: "0a1b2c3d-..." }
 */
export type VmIdentity = ExactlyOne<{ uuid: string; nameLabel: string }>;

/** The one identity that is set (the check above made sure of it), in the form we compare. */
function diskIdentity(value: {
  readonly serial?: string | undefined;
  readonly wwn?: string | undefined;
  readonly byId?: string | undefined;
  readonly kernelName?: string | undefined;
}): DiskIdentity {
  if (value.serial !== undefined) return { serial: value.serial };
  if (value.wwn !== undefined) return { wwn: value.wwn };
  if (value.byId !== undefined) return { byId: value.byId };
  return { kernelName: value.kernelName ?? "" };
}

function vmIdentity(value: {
  readonly uuid?: string | undefined;
  readonly nameLabel?: string | undefined;
}): VmIdentity {
  if (value.uuid !== undefined) return { uuid: value.uuid };
  return { nameLabel: value.nameLabel ?? "" };
}

function diskSchema(wrap: Wrap) {
  const disk = exactlyOne({
    serial: allowListed(ALLOW.serial, wrap).optional(),
    // udev reports WWNs in lowercase; keep ours the same so rules and comparisons agree.
    wwn: allowListed(ALLOW.wwn, wrap, undefined, (value) => value.toLowerCase()).optional(),
    byId: allowListed(ALLOW.byId, wrap, byIdProblem).optional(),
    kernelName: allowListed(ALLOW.kernelName, wrap, partitionProblem).optional(),
  }).transform(diskIdentity);
  return wrap(disk);
}

export function vmSchema(wrap: Wrap) {
  const vm = exactlyOne({
    // XAPI prints UUIDs in lowercase.
    uuid: allowListed(ALLOW.vmUuid, wrap, undefined, (value) => value.toLowerCase()).optional(),
    nameLabel: allowListed(ALLOW.vmNameLabel, wrap).optional(),
  }).transform(vmIdentity);
  return wrap(vm);
}

/** How every resource type of this package reaches its host. */
export function hostShape(wrap: Wrap) {
  return {
    connection: connectionSchema(wrap),
    xapi: xapiSchema(wrap).optional(),
  };
}

/** The inputs' properties: their one description (inputKeys() are its keys). */
function inputsShape(wrap: Wrap) {
  return {
    ...hostShape(wrap),
    disk: diskSchema(wrap),
    vm: vmSchema(wrap),
    mode: wrap(z.enum(["RW", "RO"], typeError('must be "RW" or "RO"'))).default(DEFAULTS.mode),
    userdevice: allowListed(ALLOW.userdevice, wrap).default(DEFAULTS.userdevice),
    bootable: flag(wrap, DEFAULTS.bootable),
    attach: flag(wrap, DEFAULTS.attach),
    adopt: flag(wrap, DEFAULTS.adopt),
    setAffinity: flag(wrap, DEFAULTS.setAffinity),
    symlinkTimeoutSeconds: wholeNumber(wrap, LIMITS.symlinkTimeoutSeconds, DEFAULTS.symlinkTimeoutSeconds),
    owner: allowListed(ALLOW.owner, wrap).optional(),
  };
}

function inputsSchema(wrap: Wrap) {
  return z.object(inputsShape(wrap), notAnObject).strict().transform(definedOnly);
}

/** Built on first use: each costs a few ms of the provider's start, and an operation needs one or two. */
export function builtOnce<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}

/** Schema of check during preview: tolerates the unknown sentinel anywhere. */
export const tolerantInputsSchema = builtOnce(() => inputsSchema(tolerant));
/** Schema of fully known inputs (create, update, read, delete). */
export const exactInputsSchema = builtOnce(() => inputsSchema(exact));
/** Schema of fully known direct-XAPI settings (also used for the stack config). */
export const exactXapiSchema = builtOnce(() => xapiSchema(exact));
/** Schemas of one fully known SSH hop and of a connection (core/inputs.ts infers their types). */
export type ExactHopSchema = ReturnType<typeof hopSchema>;
export type ExactConnectionSchema = ReturnType<typeof connectionSchema>;

/** The names of the input properties (the rest of the state is outputs): the schema's own keys. */
export const inputKeys = builtOnce(
  () => Object.keys(exactInputsSchema().innerType().shape) as (keyof ReturnType<typeof inputsShape>)[],
);
