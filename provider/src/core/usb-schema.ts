// zod schema of PassthroughUsb's inputs, built from the same parts as PassthroughDisk's
// (schema.ts): the same connection, xapi and vm schemas, so one set of rules and messages.
import { z } from "zod/v3";
import { inputReaders } from "./check.js";
import { ALLOW } from "./patterns.js";
import { definedOnly } from "./defined-only.js";
import {
  allowListed,
  builtOnce,
  exact,
  hostShape,
  tolerant,
  notAnObject,
  vmSchema,
  type Wrap,
} from "./schema.js";
import { UNKNOWN } from "./unknown.js";
import type { PassthroughUsbInputs, UsbDeviceIdentity } from "./usb-inputs.js";

/** Allow-lists of the device identity's fields (what dom0's USB scan reports). */
export const USB_ALLOW = {
  hexId: {
    pattern: /^[0-9A-Fa-f]{4}$/,
    allowed: 'four hex digits as lsusb prints them, e.g. "10c4"',
  },
  // A serial as the kernel reports it (iSerialNumber): printable, no shell-special characters.
  serial: ALLOW.serial,
  path: {
    pattern: /^[0-9]{1,3}-[0-9]{1,3}(?:\.[0-9]{1,3}){0,6}$/,
    allowed: 'a USB port path as the kernel names it: bus-port[.port...], e.g. "1-2" or "3-1.4"',
  },
} as const;

function deviceSchema(wrap: Wrap) {
  const ids = z
    .object(
      {
        vendorId: allowListed(USB_ALLOW.hexId, wrap),
        productId: allowListed(USB_ALLOW.hexId, wrap),
        serial: allowListed(USB_ALLOW.serial, wrap).optional(),
        path: allowListed(USB_ALLOW.path, wrap).optional(),
      },
      notAnObject,
    )
    .strict();
  // vendorId and productId always; exactly one of serial or path.
  const device = ids
    .superRefine((value, ctx) => {
      const set = [value.serial, value.path].filter((v) => v !== undefined).length;
      if (set === 0)
        ctx.addIssue({ code: "custom", message: "set serial (or path, for a device without a serial)" });
      if (set > 1)
        ctx.addIssue({
          code: "custom",
          message:
            "serial and path are mutually exclusive: set serial, or path only for a device without one",
        });
    })
    .transform((value) => {
      // XAPI stores the ids in lower case (dom0's scan prints them so).
      const lower = (id: string) => (id === UNKNOWN ? id : id.toLowerCase());
      return definedOnly({
        ...value,
        vendorId: lower(value.vendorId),
        productId: lower(value.productId),
      }) as UsbDeviceIdentity;
    });
  return wrap(device);
}

function usbInputsShape(wrap: Wrap) {
  return {
    ...hostShape(wrap),
    device: deviceSchema(wrap),
    vm: vmSchema(wrap),
    owner: allowListed(ALLOW.owner, wrap).optional(),
  };
}

function usbInputsSchema(wrap: Wrap) {
  return z
    .object(usbInputsShape(wrap), notAnObject)
    .strict()
    .transform((inputs) => definedOnly(inputs) as PassthroughUsbInputs);
}

const tolerantSchema = builtOnce(() => usbInputsSchema(tolerant));
const exactSchema = builtOnce(() => usbInputsSchema(exact));

/** The names of PassthroughUsb's input properties (the rest of its state is outputs). */
export const usbInputKeys = builtOnce(
  () => Object.keys(exactSchema().innerType().shape) as readonly (keyof PassthroughUsbInputs)[],
);

const usbInputs = inputReaders<PassthroughUsbInputs>(
  { tolerant: tolerantSchema, exact: exactSchema },
  usbInputKeys,
  "PassthroughUsb",
);

/** check of PassthroughUsb: validates (preview unknowns tolerated) and defaults; never throws. */
export const checkUsbInputs = usbInputs.check;

/** Fully known inputs out of inputs or state (outputs ignored); throws InvalidInputsError (core/errors.ts). */
export const parseUsbInputs = usbInputs.parse;
