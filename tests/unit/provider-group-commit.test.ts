import { GroupCommit } from "#provider/core/group-commit.js";

function recorder() {
  const batches: number[][] = [];
  const commit = new GroupCommit<number, string>(async (requests) => {
    batches.push([...requests]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return requests.map((n) => (n < 0 ? new Error(`bad ${n}`) : `ok ${n}`));
  }, 5);
  return { batches, commit };
}

describe("GroupCommit", () => {
  test("requests made together go out as one batch, each with its own result", async () => {
    const { batches, commit } = recorder();
    await expect(Promise.all([1, 2, 3].map((n) => commit.submit(n)))).resolves.toEqual([
      "ok 1",
      "ok 2",
      "ok 3",
    ]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  test("requests made while a batch runs wait for the next batch, never join a started one", async () => {
    const { batches, commit } = recorder();
    const first = commit.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the first batch is running now
    const later = [commit.submit(2), commit.submit(3)];
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  test("an Error outcome fails that request alone", async () => {
    const { commit } = recorder();
    const results = await Promise.allSettled([commit.submit(1), commit.submit(-2), commit.submit(3)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  test("a batch that throws fails every request in it, and the next batch still runs", async () => {
    let calls = 0;
    const commit = new GroupCommit<number, number>((requests) => {
      calls += 1;
      if (calls === 1) return Promise.reject(new Error("connection lost"));
      return Promise.resolve(requests.map((n) => n * 2));
    }, 1);
    const results = await Promise.allSettled([commit.submit(1), commit.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await expect(commit.submit(4)).resolves.toBe(8);
  });
});
