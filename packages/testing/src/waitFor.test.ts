import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sleep, waitFor } from "./waitFor.js";

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("waitFor", () => {
  it("when the condition already holds, then it answers the probe's value without waiting", async () => {
    const probe = vi.fn(() => 42);
    await expect(waitFor(probe, { what: "the answer" })).resolves.toBe(42);
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it("when the condition holds after a while, then it answers the first value that satisfies `until`, probing every interval", async () => {
    let n = 0;
    const probe = vi.fn(async () => {
      n += 1;
      return n;
    });
    const waiting = waitFor(probe, { what: "n to reach 4", until: (value) => value >= 4, intervalMs: 100 });
    await vi.advanceTimersByTimeAsync(250);
    expect(probe).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(100);
    await expect(waiting).resolves.toBe(4);
  });

  it("when no `until` is given, then a truthy value ends the wait", async () => {
    const values = [undefined, 0, "", "found"];
    const waiting = waitFor(() => values.shift(), { what: "a value" });
    await vi.advanceTimersByTimeAsync(100);
    await expect(waiting).resolves.toBe("found");
  });

  it("when the condition never holds, then it fails at the timeout naming what it waited for and the last value, after a last probe", async () => {
    const probe = vi.fn(() => ({ status: "pending" }));
    const waiting = waitFor(probe, {
      what: "the event to settle",
      until: (e) => e.status === "completed",
      timeoutMs: 1000,
      intervalMs: 300,
    });
    const failure = expect(waiting).rejects.toThrow(
      'timed out after 1000 ms waiting for the event to settle; last value: {"status":"pending"}',
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(probe).toHaveBeenCalledTimes(4);
    await vi.advanceTimersByTimeAsync(1);
    await failure;
    // Probes at 0, 300, 600, 900 and at the deadline itself.
    expect(probe).toHaveBeenCalledTimes(5);
  });

  it("when the probe throws, then the wait fails with that error at once", async () => {
    const waiting = waitFor(
      () => {
        throw new Error("database gone");
      },
      { what: "anything" },
    );
    await expect(waiting).rejects.toThrow("database gone");
  });
});

describe("sleep", () => {
  it("when the time has passed, then it resolves, and not before", async () => {
    let done = false;
    const sleeping = sleep(500).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(done).toBe(true);
  });
});
