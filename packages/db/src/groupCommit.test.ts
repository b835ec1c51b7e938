import { describe, expect, it } from "vitest";
import { createGroupCommit } from "./groupCommit.js";

/** A commit whose statements the test finishes by hand, recording the groups it was given. */
function manualCommit<Item>() {
  const groups: Item[][] = [];
  const pending: Array<{ resolve: (value: string) => void; reject: (error: unknown) => void }> = [];
  const commit = (items: readonly Item[]) =>
    new Promise<string>((resolve, reject) => {
      groups.push([...items]);
      pending.push({ resolve, reject });
    });
  return { groups, pending, commit };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("createGroupCommit", () => {
  it("when nothing is in flight, then an item is committed alone at once", async () => {
    const manual = manualCommit<number>();
    const group = createGroupCommit({ maxInFlight: 1, maxWeight: 10, commit: manual.commit });
    const answer = group.submit(1);
    expect(manual.groups).toEqual([[1]]);
    manual.pending[0]?.resolve("first");
    await expect(answer).resolves.toBe("first");
  });

  it("when statements are in flight, then the items that arrive meanwhile share the next statement and its result", async () => {
    const manual = manualCommit<number>();
    const group = createGroupCommit({ maxInFlight: 1, maxWeight: 10, commit: manual.commit });
    const first = group.submit(1);
    const later = [group.submit(2), group.submit(3), group.submit(4)];
    expect(manual.groups).toEqual([[1]]);
    manual.pending[0]?.resolve("a");
    await first;
    await settle();
    expect(manual.groups).toEqual([[1], [2, 3, 4]]);
    manual.pending[1]?.resolve("b");
    await expect(Promise.all(later)).resolves.toEqual(["b", "b", "b"]);
  });

  it("when items weigh more than a statement carries, then they are split by weight, and a heavy one still goes alone", async () => {
    const manual = manualCommit<number>();
    const group = createGroupCommit({ maxInFlight: 1, maxWeight: 5, weight: (n: number) => n, commit: manual.commit });
    const all = [group.submit(1), group.submit(3), group.submit(2), group.submit(9), group.submit(1)];
    for (let i = 0; i < 4; i += 1) {
      manual.pending[i]?.resolve(`s${i}`);
      await settle();
    }
    expect(manual.groups).toEqual([[1], [3, 2], [9], [1]]);
    await expect(Promise.all(all)).resolves.toEqual(["s0", "s1", "s1", "s2", "s3"]);
  });

  it("when a group's statement fails, then each item is committed again alone and only the bad one fails", async () => {
    const commit = async (items: readonly string[]) => {
      if (items.includes("bad")) throw new Error(`refused ${items.join(",")}`);
      return items.join(",");
    };
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const group = createGroupCommit<string, string>({
      maxInFlight: 1,
      maxWeight: 10,
      commit: async (items) => {
        if (items[0] === "first") await gate;
        return commit(items);
      },
    });
    const first = group.submit("first");
    const answers = [group.submit("good"), group.submit("bad"), group.submit("fine")].map((p) => p.then(String, (e: Error) => e.message));
    release();
    await first;
    await expect(Promise.all(answers)).resolves.toEqual(["good", "refused bad", "fine"]);
  });

  it("when retryAlone says no (the database is down), then every item of the failed group fails with its error", async () => {
    const manual = manualCommit<number>();
    const group = createGroupCommit({ maxInFlight: 1, maxWeight: 10, commit: manual.commit, retryAlone: () => false });
    const first = group.submit(0);
    const later = [group.submit(1), group.submit(2)].map((p) => p.catch((e: Error) => e.message));
    manual.pending[0]?.resolve("ok");
    await first;
    await settle();
    manual.pending[1]?.reject(new Error("down"));
    await expect(Promise.all(later)).resolves.toEqual(["down", "down"]);
    expect(manual.groups).toEqual([[0], [1, 2]]);
  });

  it("when an item's signal aborts while it waits, then it leaves the queue unwritten; once in a statement, it completes", async () => {
    const manual = manualCommit<number>();
    const group = createGroupCommit({ maxInFlight: 1, maxWeight: 10, commit: manual.commit });
    const inStatement = new AbortController();
    const waiting = new AbortController();
    const first = group.submit(1, inStatement.signal);
    const second = group.submit(2, waiting.signal).catch((e: unknown) => `aborted: ${String(e)}`);
    const third = group.submit(3);
    inStatement.abort("late");
    waiting.abort("deadline");
    await expect(second).resolves.toBe("aborted: deadline");
    manual.pending[0]?.resolve("one");
    await expect(first).resolves.toBe("one");
    await settle();
    expect(manual.groups).toEqual([[1], [3]]);
    manual.pending[1]?.resolve("three");
    await expect(third).resolves.toBe("three");
  });

  it("when an item waits, then oldestWaitMs grows from its submission, and is 0 once nothing waits", async () => {
    const manual = manualCommit<number>();
    const group = createGroupCommit({ maxInFlight: 1, maxWeight: 10, commit: manual.commit });
    void group.submit(1);
    expect(group.oldestWaitMs()).toBe(0);
    const second = group.submit(2);
    const before = performance.now();
    while (performance.now() - before < 5) {
      // Busy-wait a few milliseconds: the wait is measured with performance.now(), which fake timers do not move.
    }
    expect(group.oldestWaitMs()).toBeGreaterThanOrEqual(5);
    manual.pending[0]?.resolve("x");
    await settle();
    expect(group.oldestWaitMs()).toBe(0);
    manual.pending[1]?.resolve("y");
    await second;
  });

  it("when maxInFlight is 2, then two statements run at once and a third item waits for either", async () => {
    const manual = manualCommit<number>();
    const group = createGroupCommit({ maxInFlight: 2, maxWeight: 10, commit: manual.commit });
    const answers = [group.submit(1), group.submit(2), group.submit(3)];
    expect(manual.groups).toEqual([[1], [2]]);
    manual.pending[1]?.resolve("two");
    await settle();
    expect(manual.groups).toEqual([[1], [2], [3]]);
    manual.pending[0]?.resolve("one");
    manual.pending[2]?.resolve("three");
    await expect(Promise.all(answers)).resolves.toEqual(["one", "two", "three"]);
  });
});
