// Which udev SR of a host the provider uses: the one whose PBD on that host is plugged (xen-api
// message_forwarding.ml choose_pbd_for_sr scans only through a plugged PBD).
import { hostSide } from "#provider/look/host-side.js";
import type { PbdRecord, SrRecord, WithRef } from "#provider/xapi/records.js";
import type { XapiSnapshot } from "#provider/xapi/snapshot.js";
import { removableStorageSr } from "#provider/xapi/sr.js";

const HOST = "OpaqueRef:host";

function udevSr(ref: string): WithRef<SrRecord> {
  return {
    $ref: ref,
    uuid: `${ref}-uuid`,
    name_label: "Removable storage",
    type: "udev",
    sm_config: { type: "block" },
  } as unknown as WithRef<SrRecord>;
}

function pbd(sr: string, attached: boolean, host = HOST): WithRef<PbdRecord> {
  return { $ref: `pbd-${sr}-${host}`, uuid: `pbd-${sr}-uuid`, host, SR: sr, currently_attached: attached };
}

function snapshot(srs: WithRef<SrRecord>[], pbds: WithRef<PbdRecord>[]): XapiSnapshot {
  const host = { $ref: HOST, uuid: "host-uuid", name_label: "xen1" };
  return {
    hosts: [host],
    srs,
    pbds,
    vms: [],
    vdis: [],
    vbds: [],
    guestMetrics: [],
  };
}

test("of two udev SRs on the host, the one plugged there is chosen, whatever their order", () => {
  const srs = [udevSr("unplugged"), udevSr("plugged")];
  const pbds = [pbd("unplugged", false), pbd("plugged", true)];
  expect(removableStorageSr(snapshot(srs, pbds), HOST)?.sr.$ref).toBe("plugged");
  expect(removableStorageSr(snapshot(srs, [...pbds].reverse()), HOST)?.sr.$ref).toBe("plugged");
});

test("a PBD plugged on another host does not count for this one", () => {
  const found = removableStorageSr(
    snapshot([udevSr("sr")], [pbd("sr", true, "OpaqueRef:other"), pbd("sr", false)]),
    HOST,
  );
  expect(found?.pbd.currently_attached).toBe(false);
});

test("the only udev SR unplugged: the host side names its PBD; plugged: it names none", () => {
  const unplugged = hostSide(snapshot([udevSr("sr")], [pbd("sr", false)]), "host-uuid");
  expect(unplugged.sr).toEqual({
    ref: "sr",
    uuid: "sr-uuid",
    nameLabel: "Removable storage",
    unpluggedPbd: "pbd-sr-uuid",
  });
  const plugged = hostSide(snapshot([udevSr("sr")], [pbd("sr", true)]), "host-uuid");
  expect(plugged.sr).toEqual({ ref: "sr", uuid: "sr-uuid", nameLabel: "Removable storage" });
});

test("no udev SR with a PBD on the host: none", () => {
  expect(
    removableStorageSr(snapshot([udevSr("sr")], [pbd("sr", true, "OpaqueRef:other")]), HOST),
  ).toBeUndefined();
});
