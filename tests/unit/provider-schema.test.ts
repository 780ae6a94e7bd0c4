// check: every input field valid and invalid, injection attempts, defaults, preview unknowns.
import { checkInputs, parseInputs } from "#provider/core/check.js";
import { InvalidInputsError } from "#provider/core/errors.js";
import { UNKNOWN } from "#provider/core/unknown.js";

type Props = Record<string, unknown>;

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7x2wzVYhSl7q4sVq3eNqfDk3m6d0vEwV6s3r0n8TQk root@xen1";
const minimal: Props = {
  connection: {
    host: "xen1.lan",
    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
  },
  disk: { serial: "S3Z1NB0K123456X" },
  vm: { nameLabel: "nas" },
};

function failuresOf(news: Props): { property: string; reason: string }[] {
  return checkInputs({}, news).failures;
}

/** Inputs with one field replaced (dotted path), the rest minimal and valid. */
function withField(path: string, value: unknown): Props {
  const copy = structuredClone(minimal);
  const keys = path.split(".");
  let target = copy;
  for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Props;
  const last = keys[keys.length - 1] ?? "";
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

function propertiesFailing(path: string, value: unknown): string[] {
  return failuresOf(withField(path, value)).map((f) => f.property);
}

describe("defaults", () => {
  test("minimal inputs pass and get every documented default", () => {
    const { inputs, failures } = checkInputs({}, minimal);
    expect(failures).toEqual([]);
    expect(inputs).toEqual({
      connection: {
        host: "xen1.lan",
        port: 22,
        user: "root",
        privateKey: (minimal["connection"] as Props)["privateKey"],
        dialErrorLimit: 10,
        perDialTimeout: 15,
        insecureSkipHostKeyCheck: false,
      },
      disk: { serial: "S3Z1NB0K123456X" },
      vm: { nameLabel: "nas" },
      mode: "RW",
      userdevice: "autodetect",
      bootable: false,
      attach: true,
      adopt: false,
      setAffinity: false,
      symlinkTimeoutSeconds: 60,
    });
  });

  test("xapi gets username root and allowUnauthorized false; the fingerprint is normalized", () => {
    const { inputs, failures } = checkInputs(
      {},
      { ...minimal, xapi: { url: "https://xen-master.lan", password: "p", tlsFingerprint: "ab".repeat(32) } },
    );
    expect(failures).toEqual([]);
    expect(inputs["xapi"]).toEqual({
      url: "https://xen-master.lan",
      username: "root",
      password: "p",
      tlsFingerprint: Array(32).fill("AB").join(":"),
      allowUnauthorized: false,
    });
  });

  test("operationTimeout has no default written into the inputs (older states show no change), a given one is kept", () => {
    expect(checkInputs({}, minimal).inputs["connection"]).not.toHaveProperty("operationTimeout");
    const { inputs, failures } = checkInputs({}, withField("connection.operationTimeout", 120));
    expect(failures).toEqual([]);
    expect(inputs["connection"]).toMatchObject({ operationTimeout: 120 });
  });

  test("a proxy hop gets the connection defaults too", () => {
    const { inputs, failures } = checkInputs(
      {},
      withField("connection.proxy", { host: "bastion", password: "x" }),
    );
    expect(failures).toEqual([]);
    expect((inputs["connection"] as Props)["proxy"]).toEqual({
      host: "bastion",
      port: 22,
      user: "root",
      password: "x",
      dialErrorLimit: 10,
      perDialTimeout: 15,
      insecureSkipHostKeyCheck: false,
    });
  });

  test("the serialized provider key is dropped from the checked inputs (the host adds it back)", () => {
    const { inputs } = checkInputs({}, { ...minimal, __provider: "exports.handler = ..." });
    expect(inputs).not.toHaveProperty("__provider");
  });

  test("WWNs and VM UUIDs are lowercased the way udev and XAPI print them", () => {
    const { inputs } = checkInputs(
      {},
      {
        ...minimal,
        disk: { wwn: "0x5000C500A1B2C3D4" },
        vm: { uuid: "0A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D" },
      },
    );
    expect(inputs["disk"]).toEqual({ wwn: "0x5000c500a1b2c3d4" });
    expect(inputs["vm"]).toEqual({ uuid: "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d" });
  });
});

describe("valid values pass", () => {
  test.each([
    ["connection.host", "192.0.2.10"],
    ["connection.host", "fe80::1"],
    ["connection.host", "xen-1.example.net"],
    ["connection.port", 2222],
    ["connection.user", "admin_1"],
    ["connection.password", "p@ss w'rd\"$"],
    ["connection.privateKeyPassword", "x"],
    ["connection.agentSocketPath", "/run/user/0/ssh-agent.sock"],
    ["connection.dialErrorLimit", 1],
    ["connection.perDialTimeout", 600],
    ["connection.operationTimeout", 1],
    ["connection.operationTimeout", 3600],
    ["connection.hostKey", HOST_KEY],
    ["connection.hostKey", `xen1.lan ${HOST_KEY}`],
    ["connection.insecureSkipHostKeyCheck", true],
    ["disk", { serial: "WD-WCC4N0ABCDEF" }],
    ["disk", { serial: "Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456X" }],
    ["disk", { wwn: "5000c500a1b2c3d4" }],
    ["disk", { wwn: "0x5000c500a1b2c3d40000000000000001" }],
    ["disk", { wwn: "eui.0025388b71b1d5a5" }],
    ["disk", { byId: "ata-Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456X" }],
    ["disk", { byId: "usb-Generic_Flash_Disk_1234-0:0" }],
    ["disk", { kernelName: "sdb" }],
    ["disk", { kernelName: "nvme0n1" }],
    ["disk", { kernelName: "loop3" }],
    ["vm", { uuid: "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d" }],
    ["vm", { nameLabel: "Windows 10 (gaming)" }],
    ["mode", "RO"],
    ["userdevice", "0"],
    ["userdevice", "254"],
    ["bootable", true],
    ["attach", false],
    ["adopt", true],
    ["symlinkTimeoutSeconds", 600],
  ])("%s = %j", (path, value) => {
    expect(failuresOf(withField(path, value))).toEqual([]);
  });
});

describe("invalid values are refused, naming the property", () => {
  test.each([
    ["connection.host", "xen1; reboot", "connection.host"],
    ["connection.host", "", "connection.host"],
    ["connection.port", 0, "connection.port"],
    ["connection.port", 65536, "connection.port"],
    ["connection.port", "22", "connection.port"],
    ["connection.user", "Root User", "connection.user"],
    ["connection.password", "", "connection.password"],
    ["connection.agentSocketPath", "relative/sock", "connection.agentSocketPath"],
    ["connection.agentSocketPath", "/run/../etc/shadow", "connection.agentSocketPath"],
    ["connection.dialErrorLimit", -1, "connection.dialErrorLimit"],
    ["connection.perDialTimeout", 1.5, "connection.perDialTimeout"],
    ["connection.operationTimeout", 0, "connection.operationTimeout"],
    ["connection.operationTimeout", 3601, "connection.operationTimeout"],
    ["connection.operationTimeout", 2.5, "connection.operationTimeout"],
    ["connection.hostKey", "SHA256:abc", "connection.hostKey"],
    ["connection.hostKey", "ssh-dss AAAAB3NzaC1kc3M=", "connection.hostKey"],
    ["connection.insecureSkipHostKeyCheck", "yes", "connection.insecureSkipHostKeyCheck"],
    ["connection.bogus", 1, "connection.bogus"],
    ["connection", "xen1", "connection"],
    ["connection", undefined, "connection"],
    ["disk", { serial: "" }, "disk.serial"],
    ["disk", { wwn: "0x12" }, "disk.wwn"],
    ["disk", { kernelName: "sdb1" }, "disk.kernelName"],
    ["disk", { kernelName: "nvme0n1p2" }, "disk.kernelName"],
    ["disk", { kernelName: "xvda" }, "disk.kernelName"],
    ["disk", { kernelName: "SDB" }, "disk.kernelName"],
    ["disk", { byId: "ata-Samsung_SSD_S3Z1-part1" }, "disk.byId"],
    ["disk", { label: "data" }, "disk.label"],
    ["disk", undefined, "disk"],
    ["vm", { uuid: "not-a-uuid" }, "vm.uuid"],
    ["vm", { nameLabel: " padded" }, "vm.nameLabel"],
    ["mode", "rw", "mode"],
    ["userdevice", "255", "userdevice"],
    ["userdevice", 3, "userdevice"],
    ["userdevice", "07", "userdevice"],
    ["bootable", "false", "bootable"],
    ["symlinkTimeoutSeconds", 0, "symlinkTimeoutSeconds"],
    ["symlinkTimeoutSeconds", 601, "symlinkTimeoutSeconds"],
    ["xapi", { url: "http://xen-master", password: "p" }, "xapi.url"],
    ["xapi", { url: "https://xen-master" }, "xapi.password"],
    ["xapi", { url: "https://xen-master", password: "p", tlsFingerprint: "AB:CD" }, "xapi.tlsFingerprint"],
    ["unexpected", true, "unexpected"],
  ])("%s = %j fails on %s", (path, value, property) => {
    expect(propertiesFailing(path, value)).toContain(property);
  });

  test("a missing required value says it is required", () => {
    expect(failuresOf(withField("vm", undefined))).toEqual([{ property: "vm", reason: "is required" }]);
  });

  test("inputs that are no object at all fail as a whole", () => {
    expect(failuresOf({}).map((f) => f.property)).toEqual(["connection", "disk", "vm"]);
  });
});

describe("injection attempts are refused with what is wrong and what is allowed", () => {
  const attempts: [string, string][] = [
    ['sdb"; rm -rf /', "contains a quote"],
    ["$(reboot)", '"$" or "`"'],
    ["`reboot`", '"$" or "`"'],
    ['sdb\nACTION=="add"', "line break"],
    ["../../etc", '".."'],
    ["sd*", "glob character"],
    ["a b", "white space"],
    ["sdb;reboot", "shell operator"],
    ["sdb|sdc", "shell operator"],
  ];
  const fields = [
    "disk.serial",
    "disk.wwn",
    "disk.byId",
    "disk.kernelName",
    "vm.nameLabel",
    "connection.host",
    "connection.user",
  ];

  // Spaces are allowed inside VM name labels (tested below); every other pair must fail.
  const cases = fields.flatMap((field) => attempts.map(([value, words]) => [field, value, words] as const));
  test.each(cases.filter(([field, value]) => !(field === "vm.nameLabel" && value === "a b")))(
    "%s = %j",
    (field, value, words) => {
      const [parent = "", child = ""] = field.split(".");
      const failures = failuresOf(
        withField(
          parent,
          parent === "connection"
            ? { ...(minimal["connection"] as Props), [child]: value }
            : { [child]: value },
        ),
      );
      const failure = failures.find((f) => f.property === field);
      expect(failure).toBeDefined();
      expect(failure?.reason).toContain(words);
      expect(failure?.reason).toContain("allowed:");
      expect(failure?.reason).not.toContain(value);
    },
  );

  test("a space inside a VM name label is fine", () => {
    expect(failuresOf(withField("vm", { nameLabel: "a b" }))).toEqual([]);
  });
});

describe("mutually exclusive fields", () => {
  test("two disk identities", () => {
    expect(failuresOf(withField("disk", { serial: "S1", kernelName: "sdb" }))).toEqual([
      {
        property: "disk",
        reason:
          "serial and kernelName are mutually exclusive: set exactly one of serial, wwn, byId or kernelName",
      },
    ]);
  });

  test("no disk identity", () => {
    expect(failuresOf(withField("disk", {}))).toEqual([
      { property: "disk", reason: "set one of serial, wwn, byId or kernelName" },
    ]);
  });

  test("uuid and nameLabel", () => {
    const failures = failuresOf(
      withField("vm", { uuid: "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", nameLabel: "nas" }),
    );
    expect(failures).toEqual([
      {
        property: "vm",
        reason: "uuid and nameLabel are mutually exclusive: set exactly one of uuid or nameLabel",
      },
    ]);
  });

  test("hostKey and insecureSkipHostKeyCheck", () => {
    const failures = failuresOf(
      withField("connection", {
        ...(minimal["connection"] as Props),
        hostKey: HOST_KEY,
        insecureSkipHostKeyCheck: true,
      }),
    );
    expect(failures.map((f) => f.property)).toEqual(["connection.insecureSkipHostKeyCheck"]);
  });

  test("tlsFingerprint and allowUnauthorized", () => {
    const xapi = {
      url: "https://m",
      password: "p",
      tlsFingerprint: "ab".repeat(32),
      allowUnauthorized: true,
    };
    expect(failuresOf({ ...minimal, xapi }).map((f) => f.property)).toEqual(["xapi.allowUnauthorized"]);
  });
});

describe("secrets never appear in failures", () => {
  test("a password of the wrong type is reported without its value", () => {
    const failures = failuresOf(
      withField("connection", { host: "bad host", password: "hunter2", privateKey: 42 }),
    );
    expect(JSON.stringify(failures)).not.toContain("hunter2");
    expect(failures.map((f) => f.property).sort()).toEqual(["connection.host", "connection.privateKey"]);
  });
});

describe("preview unknowns are tolerated", () => {
  test.each([
    ["connection", UNKNOWN],
    ["connection.host", UNKNOWN],
    ["connection.port", UNKNOWN],
    ["connection.password", UNKNOWN],
    ["connection.hostKey", UNKNOWN],
    ["connection.proxy", UNKNOWN],
    ["xapi", UNKNOWN],
    ["xapi", { url: UNKNOWN, password: UNKNOWN, tlsFingerprint: UNKNOWN }],
    ["disk", UNKNOWN],
    ["disk", { kernelName: UNKNOWN }],
    ["disk", { wwn: UNKNOWN }],
    ["vm", UNKNOWN],
    ["vm", { nameLabel: UNKNOWN }],
    ["mode", UNKNOWN],
    ["userdevice", UNKNOWN],
    ["attach", UNKNOWN],
    ["symlinkTimeoutSeconds", UNKNOWN],
  ])("%s unknown", (path, value) => {
    const { inputs, failures } = checkInputs({}, withField(path, value));
    expect(failures).toEqual([]);
    // Passed through as the sentinel, defaults still applied elsewhere.
    expect(JSON.stringify(inputs)).toContain(UNKNOWN);
    expect(inputs["adopt"]).toBe(false);
  });

  test("known values next to unknown ones are still checked", () => {
    const failures = failuresOf({ ...minimal, vm: UNKNOWN, disk: { kernelName: "sdb1" } });
    expect(failures.map((f) => f.property)).toEqual(["disk.kernelName"]);
  });
});

describe("parseInputs (after check, for create/update/read/delete)", () => {
  test("reads the inputs out of a state with outputs and __provider", () => {
    const state = { ...checkInputs({}, minimal).inputs, __provider: "x", vbdUuid: "v", observed: {} };
    expect(parseInputs(state)).toEqual(checkInputs({}, minimal).inputs);
  });

  test("refuses what check would refuse, with a typed error", () => {
    expect(() => parseInputs(withField("disk", { kernelName: "sdb1" }))).toThrow(InvalidInputsError);
    try {
      parseInputs(withField("mode", UNKNOWN));
    } catch (error) {
      expect(error).toMatchObject({ code: "INVALID_INPUTS", failures: [{ property: "mode" }] });
    }
    expect.assertions(2);
  });
});
