import { describe, expect, it } from "vitest";
import { delayBeforeNextAttempt, maxAttempts, retrySchedule } from "./retrySchedule.js";

const base = { slowDown: false, scale: 1, random: 0.5 } as const;

describe("delayBeforeNextAttempt", () => {
  it("when the schedule is summed, then 8 attempts span about 28 hours", () => {
    expect(maxAttempts).toBe(8);
    expect(retrySchedule.reduce((a, b) => a + b, 0) / 3_600_000).toBeCloseTo(27.58, 1);
  });

  it.each([
    [1, 5_000],
    [2, 300_000],
    [3, 1_800_000],
    [4, 7_200_000],
    [5, 18_000_000],
    [6, 36_000_000],
    [7, 36_000_000],
  ])("when attempt %i fails (no jitter drawn), then the next waits %i ms", (attempt, expected) => {
    expect(delayBeforeNextAttempt({ ...base, attempt })).toBe(expected);
  });

  it("when attempt 8 fails, then there is no next attempt", () => {
    expect(delayBeforeNextAttempt({ ...base, attempt: 8 })).toBeUndefined();
  });

  it.each([
    [0, 4_000],
    [0.999999, 6_000],
  ])("when the random draw is %f, then the jitter stays within ±20 %% (%i ms)", (random, expected) => {
    expect(delayBeforeNextAttempt({ ...base, attempt: 1, random })).toBe(expected);
  });

  it.each([
    ["shorter than the step", 1_000, 300_000],
    ["between one and two steps", 450_000, 450_000],
    ["longer than two steps", 3_600_000, 600_000],
  ])("when Retry-After is %s, then it is honoured within one to two steps", (_case, retryAfterMs, expected) => {
    expect(delayBeforeNextAttempt({ ...base, attempt: 2, retryAfterMs })).toBe(expected);
  });

  it("when the answer was a 429 or timeout early in the schedule, then the wait is at least a minute", () => {
    expect(delayBeforeNextAttempt({ ...base, attempt: 1, slowDown: true })).toBe(60_000);
    expect(delayBeforeNextAttempt({ ...base, attempt: 1, slowDown: true, retryAfterMs: 2_000 })).toBe(60_000);
    expect(delayBeforeNextAttempt({ ...base, attempt: 3, slowDown: true })).toBe(1_800_000);
  });

  it("when the schedule is scaled, then every duration scales, the minimum included", () => {
    expect(delayBeforeNextAttempt({ ...base, attempt: 1, scale: 0.001 })).toBe(5);
    expect(delayBeforeNextAttempt({ ...base, attempt: 1, scale: 0.001, slowDown: true })).toBe(60);
  });
});
