import { backoffDelayMs, retry } from "#provider/adapters/retry.js";

const noDelay = () => 0;

describe("retry", () => {
  it("logs each failed attempt like @pulumi/command and returns the first success", async () => {
    const log: string[] = [];
    let calls = 0;
    const value = await retry(
      (index) => {
        calls++;
        return index < 3 ? Promise.reject(new Error(`dial ${index}`)) : Promise.resolve("up");
      },
      { what: "Dial", attempts: 10, log: (line) => log.push(line), delayMs: noDelay },
    );
    expect(value).toBe("up");
    expect(calls).toBe(3);
    expect(log).toEqual(["Dial 1/10 failed: retrying", "Dial 2/10 failed: retrying"]);
  });

  it("gives up after the limit with the last error", async () => {
    let calls = 0;
    const attempt = () => Promise.reject(new Error(`refused ${++calls}`));
    await expect(retry(attempt, { what: "Dial", attempts: 3, delayMs: noDelay })).rejects.toThrow(
      "refused 3",
    );
    expect(calls).toBe(3);
  });

  it("stops at once on a final error", async () => {
    let calls = 0;
    const attempt = () => Promise.reject(new Error(`host key ${++calls}`));
    const isFinal = () => true;
    await expect(retry(attempt, { what: "Dial", attempts: 10, isFinal, delayMs: noDelay })).rejects.toThrow(
      "host key 1",
    );
  });

  it("keeps going with no limit (-1), logging 'inf'", async () => {
    const log: string[] = [];
    let calls = 0;
    await retry(() => (++calls < 5 ? Promise.reject(new Error("not yet")) : Promise.resolve()), {
      what: "Dial",
      attempts: -1,
      log: (line) => log.push(line),
      delayMs: noDelay,
    });
    expect(log.at(-1)).toBe("Dial 4/inf failed: retrying");
  });

  it("backs off from 100 ms by 1.5 up to 5 s", () => {
    expect([1, 2, 3].map(backoffDelayMs)).toEqual([100, 150, 225]);
    expect(backoffDelayMs(30)).toBe(5_000);
  });
});
