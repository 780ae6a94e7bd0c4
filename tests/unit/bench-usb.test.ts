// The benchmark's USB row, its pure parts: the floor from the profile (login and the calls any
// client must make, one after another) and the hand-rolled xe chain a user would run.
import { join } from "node:path";
import type * as UsbModule from "../../bench/dist/usb";

// Loaded from the compiled benchmark: tests/dist and bench/dist sit side by side at run time.
const bench = (name: string): unknown =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(join(__dirname, "..", "..", "..", "bench", "dist", `${name}.js`));
const { usbFloorOf, usbHandScript } = bench("usb") as typeof UsbModule;

const profile = {
  baseLatencyMs: 10,
  loginMs: { remote: 500, local: 40 },
  methodExtraMs: { "VUSB.create": 100, "VUSB.destroy": 50, "PUSB.set_passthrough_enabled": 20 },
};
const network = { oneWayDelayMs: 1 };
const total = (terms: { ms: number }[]) => terms.reduce((sum, term) => sum + term.ms, 0);

test("the floor: a local login and one lookup, plus the changing calls with their service times", () => {
  // call = 2 ms round trip + 10 ms latency; login = an extra round trip + a call + 40 ms.
  expect(total(usbFloorOf("refresh", profile, network))).toBe(2 + 12 + 40 + 12);
  expect(total(usbFloorOf("create", profile, network))).toBe(66 + (12 + 20) + (12 + 100));
  expect(total(usbFloorOf("delete", profile, network))).toBe(66 + (12 + 50) + (12 + 20));
  expect(usbFloorOf("create", profile, network).every((term) => term.source === "profile")).toBe(true);
});

test("the hand-rolled chain: pusb-list, passthrough on, vusb-create; delete undoes both", () => {
  const create = usbHandScript("create", "vm-uuid-1", "");
  expect(create).toMatch(/xe pusb-list vendor-id=10c4 product-id=ea60 serial='[^']+' --minimal/);
  expect(create.indexOf("passthrough-enabled=true")).toBeLessThan(create.indexOf("xe vusb-create"));
  expect(create).toContain("vm-uuid='vm-uuid-1'");
  const remove = usbHandScript("delete", "vm-uuid-1", "pusb-1 vusb-1");
  expect(remove).toContain("xe vusb-destroy uuid='vusb-1'");
  expect(remove).toContain("xe pusb-param-set uuid='pusb-1' passthrough-enabled=false");
  expect(remove.indexOf("vusb-destroy")).toBeLessThan(remove.indexOf("passthrough-enabled=false"));
});
