import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyMapping } from "../applyMapping.js";
import type { MappingTransform } from "../mappingSchema.js";

function convert(value: unknown, transform: MappingTransform) {
  return applyMapping(
    {
      schema_version: 1,
      fields: [{ dest: "out", source: { type: "path", value: "in" }, transforms: [transform], on_error: "fail_action" }],
    },
    { in: value },
  );
}

describe("to_date", () => {
  it.each([
    ["2024-03-09", undefined, "2024-03-09"],
    ["2024-03-09", "Asia/Tokyo", "2024-03-09"],
    ["2024-03-09T23:30:00Z", undefined, "2024-03-09"],
    ["2024-03-09T23:30:00Z", "Asia/Tokyo", "2024-03-10"],
    ["2024-03-09T01:30:00Z", "America/New_York", "2024-03-08"],
    ["2024-03-09T23:30:00-05:00", undefined, "2024-03-10"],
    ["2024-03-09T23:30", "Asia/Tokyo", "2024-03-09"],
    ["2024-03-09 23:30:15.5+0100", undefined, "2024-03-09"],
    [1710027000, undefined, "2024-03-09"],
    [1710027000000, undefined, "2024-03-09"],
    [1710027000, "Asia/Tokyo", "2024-03-10"],
    ["0001-01-01", undefined, "0001-01-01"],
    ["2024-02-29", undefined, "2024-02-29"],
  ])("when %j is read in %s, then it gives %j", (value, timezone, expected) => {
    const transform: MappingTransform = timezone === undefined ? { type: "to_date" } : { type: "to_date", timezone };
    expect(convert(value, transform)).toEqual({ ok: true, output: { out: expected }, warnings: [] });
  });

  it.each([
    ["2023-02-29"],
    ["2024-13-01"],
    ["2024-03-09T24:00"],
    ["2024-03-09T12:60"],
    ["09/03/2024"],
    ["March 9, 2024"],
    ["2024-3-9"],
    ["1710027000"],
    [""],
    ["0000-06-01"],
    [1e300],
    [true],
    [{}],
  ])("when the value is %j, then the field fails", (value) => {
    expect(convert(value, { type: "to_date" })).toMatchObject({ ok: false, failure: { field: "out" } });
  });

  it("when the time zone is unknown, then the field fails", () => {
    expect(convert("2024-03-09", { type: "to_date", timezone: "Mars/Olympus_Mons" })).toEqual({
      ok: false,
      failure: { field: "out", message: "transform 1 names an unknown time zone" },
      warnings: [],
    });
  });
});

describe("to_datetime", () => {
  it.each([
    ["2024-03-09T14:05:09Z", undefined, "2024-03-09T14:05:09.000Z"],
    ["2024-03-09T14:05:09.123456789Z", undefined, "2024-03-09T14:05:09.123Z"],
    ["2024-03-09t14:05z", undefined, "2024-03-09T14:05:00.000Z"],
    ["2024-03-09T14:05:09+01:00", undefined, "2024-03-09T13:05:09.000Z"],
    ["2024-03-09T14:05:09-0530", undefined, "2024-03-09T19:35:09.000Z"],
    ["2024-03-09T14:05:09+01", undefined, "2024-03-09T13:05:09.000Z"],
    ["2024-03-09T14:05:09Z", "Europe/Paris", "2024-03-09T15:05:09.000+01:00"],
    ["2024-07-09T14:05:09Z", "Europe/Paris", "2024-07-09T16:05:09.000+02:00"],
    ["2024-03-09T14:05:09Z", "Asia/Kolkata", "2024-03-09T19:35:09.000+05:30"],
    ["2024-03-09T14:05:09Z", "UTC", "2024-03-09T14:05:09.000Z"],
    ["2024-01-15T12:00:00Z", "Europe/London", "2024-01-15T12:00:00.000Z"],
    ["2024-03-09", undefined, "2024-03-09T00:00:00.000Z"],
    ["2024-03-09", "America/New_York", "2024-03-09T00:00:00.000-05:00"],
    ["2024-03-09T08:00", "America/New_York", "2024-03-09T08:00:00.000-05:00"],
    [1710027000, undefined, "2024-03-09T23:30:00.000Z"],
    [1710027000123, undefined, "2024-03-09T23:30:00.123Z"],
    [1710027000.5, undefined, "2024-03-09T23:30:00.500Z"],
    [0, undefined, "1970-01-01T00:00:00.000Z"],
  ])("when %j is written in %s, then it gives %j", (value, timezone, expected) => {
    const transform: MappingTransform = timezone === undefined ? { type: "to_datetime" } : { type: "to_datetime", timezone };
    expect(convert(value, transform)).toEqual({ ok: true, output: { out: expected }, warnings: [] });
  });

  it("when a local time falls in the hour skipped by a change to summer time, then it lands after the gap", () => {
    expect(convert("2024-03-10T02:30", { type: "to_datetime", timezone: "America/New_York" })).toMatchObject({
      output: { out: "2024-03-10T03:30:00.000-04:00" },
    });
  });

  it.each([
    ["America/New_York", "2024-11-03T01:30", "2024-11-03T01:30:00.000-04:00"],
    ["Europe/Berlin", "2024-10-27T02:30", "2024-10-27T02:30:00.000+02:00"],
  ])(
    "when a local time in %s falls in the hour repeated by a change to winter time, then it is the first of the two",
    (timezone, value, expected) => {
      expect(convert(value, { type: "to_datetime", timezone })).toMatchObject({ output: { out: expected } });
    },
  );

  it("when the time zone is not a string, then the field fails", () => {
    expect(convert("2024-03-09", { type: "to_datetime", timezone: 1 } as unknown as MappingTransform)).toEqual({
      ok: false,
      failure: { field: "out", message: "transform 1 has a timezone that is not a string" },
      warnings: [],
    });
  });

  it("when the instant is beyond the year 9999, then the field fails", () => {
    expect(convert("9999-12-31T23:00:00-05:00", { type: "to_datetime" })).toEqual({
      ok: false,
      failure: { field: "out", message: "transform 1 (to_datetime): the date is outside the years 0001 to 9999" },
      warnings: [],
    });
  });

  it("when the value is a Date, then it is read as its instant", () => {
    expect(convert(new Date(Date.UTC(2024, 2, 9, 14, 5, 9)), { type: "to_datetime" })).toMatchObject({
      output: { out: "2024-03-09T14:05:09.000Z" },
    });
  });
});

describe("date formatting", () => {
  it("when any instant of years 0001 to 9999 is written, then it matches Date's own ISO form", () => {
    const first = Date.UTC(2000, 0, 1) - 1999 * 365.2425 * 86_400_000;
    const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    fc.assert(
      fc.property(fc.integer({ min: Math.ceil(first) + 86_400_000, max: last }), (millis) => {
        const iso = new Date(millis).toISOString();
        expect(convert(new Date(millis), { type: "to_datetime" })).toMatchObject({ output: { out: iso } });
        expect(convert(new Date(millis), { type: "to_date" })).toMatchObject({ output: { out: iso.slice(0, 10) } });
      }),
      { numRuns: 2000 },
    );
  });
});
