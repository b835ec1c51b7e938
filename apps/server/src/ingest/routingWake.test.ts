import { describe, expect, it } from "vitest";
import { createRoutingWake } from "./routingWake.js";

/** A wake statement the test finishes by hand; `started` counts the statements begun. */
function manualQueue() {
  const finishers: Array<(error?: Error) => void> = [];
  return {
    queue: () =>
      new Promise<void>((resolve, reject) => {
        finishers.push((error) => (error === undefined ? resolve() : reject(error)));
      }),
    get started() {
      return finishers.length;
    },
    finish: (index: number, error?: Error) => finishers[index]?.(error),
  };
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe("createRoutingWake", () => {
  it("when wakes arrive while a statement runs, then they are covered by one more statement after it, never dropped", async () => {
    const statements = manualQueue();
    const wake = createRoutingWake(statements.queue, { intervalMs: 10, onError: () => {} });
    wake.wake();
    expect(statements.started).toBe(1);
    wake.wake();
    wake.wake();
    expect(statements.started).toBe(1);

    statements.finish(0);
    await tick(30);
    // The owed wake: one statement for both, begun after the first one ended and the interval passed.
    expect(statements.started).toBe(2);
    statements.finish(1);
    await tick(30);
    expect(statements.started).toBe(2);

    // Quiet again: the next wake goes out at once.
    wake.wake();
    expect(statements.started).toBe(3);
    statements.finish(2);
    await wake.close();
  });

  it("when a wake statement fails, then the error is reported and later wakes still go out", async () => {
    const statements = manualQueue();
    const errors: unknown[] = [];
    const wake = createRoutingWake(statements.queue, { intervalMs: 0, onError: (error) => errors.push(error) });
    wake.wake();
    statements.finish(0, new Error("database unavailable"));
    await tick(10);
    expect(errors).toEqual([new Error("database unavailable")]);
    wake.wake();
    expect(statements.started).toBe(2);
    statements.finish(1);
    await wake.close();
  });

  it("when closed with a wake owed, then close sends it and waits for it, and later wakes do nothing", async () => {
    const statements = manualQueue();
    const wake = createRoutingWake(statements.queue, { intervalMs: 1_000, onError: () => {} });
    wake.wake();
    wake.wake();
    const closing = wake.close();
    statements.finish(0);
    await tick(10);
    // Close does not wait out the interval for the owed wake: it sends it at once.
    expect(statements.started).toBe(2);
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    await tick(10);
    expect(closed).toBe(false);
    statements.finish(1);
    await closing;
    wake.wake();
    expect(statements.started).toBe(2);
  });
});
