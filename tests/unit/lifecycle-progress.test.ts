// Long waits report themselves every few seconds (issue: "waiting for udev to link sdb: 10/60 s"
// rather than one line and then silence). Fake timers: no test waits for real time.
import { PROGRESS_EVERY_MS, progressLine, withProgress } from "#provider/lifecycle/progress.js";

describe("progress of long waits", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test("a line says what is awaited, for how long, and against which bound", () => {
    expect(progressLine("waiting for udev to link sdb", 10, 60)).toBe(
      "waiting for udev to link sdb: 10/60 s",
    );
    expect(progressLine("waiting for VBD.plug", 15)).toBe("waiting for VBD.plug: 15 s");
  });

  test("a wait reports every few seconds until it settles, then stops", async () => {
    const lines: string[] = [];
    let finish: (value: string) => void = () => undefined;
    const work = new Promise<string>((resolve) => (finish = resolve));
    const waiting = withProgress((line) => lines.push(line), "waiting for udev to link sdb", work, {
      limitSeconds: 60,
    });
    jest.advanceTimersByTime(PROGRESS_EVERY_MS * 2);
    expect(lines).toEqual(["waiting for udev to link sdb: 5/60 s", "waiting for udev to link sdb: 10/60 s"]);
    finish("linked");
    await expect(waiting).resolves.toBe("linked");
    jest.advanceTimersByTime(PROGRESS_EVERY_MS * 3);
    expect(lines).toHaveLength(2);
  });

  test("a quick wait says nothing, and a failure passes through unchanged", async () => {
    const lines: string[] = [];
    await expect(
      withProgress((line) => lines.push(line), "waiting for VBD.plug", Promise.resolve(1)),
    ).resolves.toBe(1);
    const failure = new Error("VDI_IN_USE");
    await expect(
      withProgress((line) => lines.push(line), "waiting for VBD.plug", Promise.reject(failure)),
    ).rejects.toBe(failure);
    jest.advanceTimersByTime(PROGRESS_EVERY_MS * 2);
    expect(lines).toEqual([]);
  });
});
