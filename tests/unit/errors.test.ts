// One error shape: every error the provider throws is a PassthroughError with a stable code and
// its params; decisions are made on codes, never on message text.
import { PassthroughError, messageOf, toError } from "#provider/core/error-base.js";
import {
  InvalidInputsError,
  InternalError,
  RefusedError,
  RollbackIncompleteError,
} from "#provider/core/errors.js";
import { refuseUnsafe, type RefusalView } from "#provider/core/refusals.js";
import {
  RemoteCommandError,
  SettingError,
  SshConnectionError,
  TlsFingerprintError,
  XapiError,
  XapiTransportError,
} from "#provider/adapters/index.js";
import { UsageError } from "#provider/cli/usage-error.js";
import { UdevRoundError } from "#provider/dom0/udev-round-error.js";

test("every family's errors share the base: code, params, message, cause", () => {
  const cause = new Error("socket hang up");
  const errors: PassthroughError<string, unknown>[] = [
    new InvalidInputsError([{ property: "disk.serial", reason: "must not be empty" }]),
    new InternalError("no plan", { cause }),
    new RollbackIncompleteError(["rule file"], { cause }),
    new RefusedError("VM_NOT_FOUND", { vm: "nas" }, 'VM "nas" was not found'),
    new SshConnectionError("SSH_TIMEOUT", "no answer", { cause, stage: "command" }),
    new SettingError("xapi.url", "not a URL"),
    new TlsFingerprintError("xen1", "AA:BB", "xapi.tlsFingerprint"),
    new XapiError("VBD.plug", "VM_BAD_POWER_STATE", ["OpaqueRef:1", "running", "halted"]),
    new XapiTransportError("xen1", "VBD.plug", "socket hang up", { cause }),
    new RemoteCommandError("xen1", "udevadm settle", 1, "timeout"),
    new UsageError("--host is required"),
    new UdevRoundError("round failed", new Map(), { stderr: "", code: 1 }),
  ];
  for (const error of errors) {
    expect(error).toBeInstanceOf(PassthroughError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    expect(error.params).toBeDefined();
    expect(error.name).toBe(error.constructor.name);
  }
  expect(new XapiTransportError("xen1", "VBD.plug", "socket hang up", { cause }).cause).toBe(cause);
  expect(new XapiError("VBD.plug", "VM_BAD_POWER_STATE", ["a", "b"]).params).toEqual(["a", "b"]);
  expect(new SshConnectionError("SSH_TIMEOUT", "no answer", { stage: "command" }).params).toEqual({
    stage: "command",
  });
});

test("one way to put a caught value into words, whatever was thrown", () => {
  expect(messageOf(new Error("boom"))).toBe("boom");
  expect(messageOf({ message: "from another realm" })).toBe("from another realm");
  expect(messageOf("plain")).toBe("plain");
  expect(messageOf(undefined)).toBe("undefined");
  const error = new Error("kept");
  expect(toError(error)).toBe(error);
  expect(toError(42).message).toBe("42");
});

describe("a missing disk is told apart by its code, not its words", () => {
  const view: RefusalView = {
    hostUuid: "host-uuid",
    hostName: "xcp1",
    disk: undefined,
    diskProblem: "no disk with serial S3Z1 on this host",
    diskUse: undefined,
    otherRules: [],
    foreignOwner: undefined,
    otherVbds: [],
    sr: undefined,
    vm: undefined,
  };
  const wanted = { disk: { serial: "S3Z1" } } as Parameters<typeof refuseUnsafe>[1];
  const refusal = (v: RefusalView) => {
    try {
      refuseUnsafe(v, wanted);
    } catch (error) {
      return error as RefusedError;
    }
    throw new Error("not refused");
  };

  test("DISK_ABSENT names the host", () => {
    expect(refusal({ ...view, diskProblemCode: "DISK_ABSENT" }).message).toBe(
      'the disk serial S3Z1 is not present on host "xcp1" (host-uuid): no disk with serial S3Z1 on this host',
    );
  });

  test("another problem is said as it is, even if its words look alike", () => {
    const error = refusal({ ...view, diskProblemCode: "DISK_AMBIGUOUS" });
    expect(error.code).toBe("DISK_NOT_FOUND");
    expect(error.message).toBe("no disk with serial S3Z1 on this host");
  });
});
