import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "./parseRetryAfter.js";

describe("parseRetryAfter", () => {
  const now = new Date("2026-03-10T12:00:00.000Z");

  it.each([
    ["120", 120_000],
    ["0", 0],
    [" 5 ", 5_000],
    ["Tue, 10 Mar 2026 12:00:30 GMT", 30_000],
    ["tue, 10 mar 2026 12:02:00 gmt", 120_000],
    ["Tue, 10 Mar 2026 11:59:00 GMT", 0],
    ["Tuesday, 10-Mar-26 12:01:00 GMT", 60_000],
    ["Tue Mar 10 12:00:45 2026", 45_000],
    ["Tue Mar  1 12:00:00 2026", 0],
  ])("when Retry-After is %j, then the delay is %d ms", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([
    [undefined],
    [""],
    ["soon"],
    ["-5"],
    ["1.5"],
    ["10 s"],
    ["Tue, 31 Feb 2026 12:00:00 GMT"],
    ["Tue, 10 Mar 2026 25:00:00 GMT"],
    ["Tue, 10 Foo 2026 12:00:00 GMT"],
    ["2026-03-10T12:00:30Z"],
    ["99999999999999999999"],
  ])("when Retry-After is %j, then there is no delay to honour", (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
