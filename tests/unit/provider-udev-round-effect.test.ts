// The udev round's one description (core/udev-round.ts): what a round does to dom0, which both
// the replay after an apply and the unit tier's fake dom0 use.
import { applyRound, roundOps, type Dom0Files, type UdevRequest } from "#provider/core/udev-round.js";

const RULES = "/etc/udev/rules.d";
const empty: Dom0Files = { files: new Map(), links: new Map(), claims: new Map(), xapiBlock: new Map() };
const noLinks = () => undefined;

function run(
  before: Dom0Files,
  requests: UdevRequest[],
  linkOf: (k: string) => string | undefined = noLinks,
) {
  return applyRound(before, roundOps(requests), linkOf);
}

describe("a udev round's effect on dom0", () => {
  test("a request refused by its claim changes nothing; the others of the round still run", () => {
    const before = { ...empty, claims: new Map([["disk-a", "other"]]) };
    const { after, reports } = run(before, [
      { claim: { key: "disk-a", owner: "me" }, writes: [{ path: `${RULES}/a.rules`, text: "a" }] },
      { claim: { key: "disk-b", owner: "me" }, writes: [{ path: `${RULES}/b.rules`, text: "b" }] },
    ]);
    expect(reports).toEqual([{ id: 0, kind: "claimed", holder: "other" }]);
    expect([...after.files.keys()]).toEqual([`${RULES}/b.rules`]);
    expect([...after.claims]).toEqual([
      ["disk-a", "other"],
      ["disk-b", "me"],
    ]);
  });

  test("a claim held under the resource's earlier owner id is re-pointed", () => {
    const before = { ...empty, claims: new Map([["disk-a", "old-name"]]) };
    const { after, reports } = run(before, [
      { claim: { key: "disk-a", owner: "new-name", previous: "old-name" } },
    ]);
    expect(reports).toEqual([]);
    expect(after.claims.get("disk-a")).toBe("new-name");
  });

  test("others' rules are set aside and moved back under their suffix; a missing one is not reported", () => {
    const hand = `${RULES}/99-hand.rules`;
    const aside = run({ ...empty, files: new Map([[hand, "x"]]) }, [
      { disables: [hand, `${RULES}/gone.rules`] },
    ]);
    expect(aside.reports).toEqual([{ id: 0, kind: "disabled", path: hand }]);
    expect([...aside.after.files]).toEqual([[`${hand}.disabled-by-xen-passthrough`, "x"]]);
    expect([...run(aside.after, [{ restores: [hand] }]).after.files]).toEqual([[hand, "x"]]);
  });

  test("the host's shared pieces go with the last claim only, after the round's releases", () => {
    const unit = "/etc/systemd/system/x.service";
    const before = {
      ...empty,
      files: new Map([[unit, "u"]]),
      links: new Map([["/etc/systemd/system/multi-user.target.wants/x.service", unit]]),
      claims: new Map([
        ["disk-a", "me"],
        ["disk-b", "you"],
      ]),
    };
    const shared = { removeWhenUnclaimed: ["/etc/systemd/system/multi-user.target.wants/x.service", unit] };
    const one = run(before, [{ ...shared, release: { key: "disk-a", owner: "me" } }]).after;
    expect(one.files.has(unit)).toBe(true);
    const last = run(one, [{ ...shared, release: { key: "disk-b", owner: "you" } }]).after;
    expect(last.files.size + last.links.size + last.claims.size).toBe(0);
  });

  test("a re-evaluated disk keeps only the link its rules make now; the waits judge the result", () => {
    const before = {
      ...empty,
      xapiBlock: new Map([
        ["sdb", "sdb"],
        ["sdc", "sdc"],
      ]),
    };
    const { after, reports } = run(
      before,
      [
        {
          triggers: ["sdb"],
          waits: [{ path: "/dev/xapi/block/xp-serial-A", timeoutSeconds: 30 }],
          waitsGone: [{ path: "/dev/xapi/block/sdb", timeoutSeconds: 30 }],
        },
        { waits: [{ path: "/dev/xapi/block/sdd", timeoutSeconds: 5 }] },
        { waitsGone: [{ path: "/dev/xapi/block/sdc", timeoutSeconds: 7 }] },
      ],
      (kernelName) => (kernelName === "sdb" ? "xp-serial-A" : undefined),
    );
    expect([...after.xapiBlock]).toEqual([
      ["sdc", "sdc"],
      ["xp-serial-A", "sdb"],
    ]);
    expect(reports).toEqual([
      { id: 1, kind: "timeout", path: "/dev/xapi/block/sdd", timeoutSeconds: 5 },
      { id: 2, kind: "lingers", path: "/dev/xapi/block/sdc", timeoutSeconds: 7 },
    ]);
  });
});
