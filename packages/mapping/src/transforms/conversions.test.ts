import { describe, expect, it } from "vitest";
import { applyMapping } from "../applyMapping.js";
import type { MappingTransform } from "../mappingSchema.js";

/** Maps `value` through `transforms` into the field `out`, failing the mapping on any error. */
function convert(value: unknown, ...transforms: MappingTransform[]) {
  return applyMapping(
    { schema_version: 1, fields: [{ dest: "out", source: { type: "path", value: "in" }, transforms, on_error: "fail_action" }] },
    { in: value },
  );
}

describe("to_string", () => {
  it.each([
    ["abc", "abc"],
    [12.5, "12.5"],
    [-0, "0"],
    [1e21, "1e+21"],
    [true, "true"],
    [false, "false"],
  ])("when the value is %j, then it gives %j", (value, expected) => {
    expect(convert(value, { type: "to_string" })).toEqual({ ok: true, output: { out: expected }, warnings: [] });
  });

  it.each([[{ a: 1 }], [[1, 2]], [Number.NaN], [Number.POSITIVE_INFINITY]])("when the value is %j, then the field fails", (value) => {
    const result = convert(value, { type: "to_string" });
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ failure: { field: "out", message: expect.stringMatching(/^transform 1 \(to_string\): /) } });
  });
});

describe("to_number", () => {
  it.each([
    [12.5, 12.5],
    ["12.5", 12.5],
    [" -3 ", -3],
    ["+4", 4],
    ["1e3", 1000],
    [".5", 0.5],
    ["5.", 5],
    [true, 1],
    [false, 0],
  ])("when the value is %j, then it gives %j", (value, expected) => {
    expect(convert(value, { type: "to_number" })).toEqual({ ok: true, output: { out: expected }, warnings: [] });
  });

  it.each([[""], ["  "], ["0x10"], ["1,000"], ["12abc"], ["Infinity"], ["NaN"], ["1e999"], ["0b11"], [{}], [[1]]])(
    "when the value is %j, then the field fails",
    (value) => {
      expect(convert(value, { type: "to_number" })).toMatchObject({ ok: false, failure: { field: "out" } });
    },
  );
});

describe("to_boolean", () => {
  it.each([
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    ["true", true],
    [" YES ", true],
    ["y", true],
    ["On", true],
    ["1", true],
    ["False", false],
    ["no", false],
    ["N", false],
    ["off", false],
    ["0", false],
  ])("when the value is %j, then it gives %j", (value, expected) => {
    expect(convert(value, { type: "to_boolean" })).toEqual({ ok: true, output: { out: expected }, warnings: [] });
  });

  it.each([[""], ["maybe"], ["2"], [2], [-1], ["truthy"], [{}], [[]]])("when the value is %j, then the field fails", (value) => {
    expect(convert(value, { type: "to_boolean" })).toMatchObject({ ok: false, failure: { field: "out" } });
  });
});

describe("default", () => {
  it.each([[undefined], [null], [""]])("when the value is %j, then the default replaces it", (value) => {
    expect(convert(value, { type: "default", value: "none" })).toEqual({ ok: true, output: { out: "none" }, warnings: [] });
  });

  it.each([[0], [false], [" "], ["x"], [[]], [{}]])("when the value is %j, then it is kept", (value) => {
    expect(convert(value, { type: "default", value: "none" })).toEqual({ ok: true, output: { out: value }, warnings: [] });
  });

  it("when the source is absent, then the transforms before the default pass it on and the default fills it", () => {
    expect(convert(undefined, { type: "trim" }, { type: "to_number" }, { type: "default", value: 7 }, { type: "to_string" })).toEqual({
      ok: true,
      output: { out: "7" },
      warnings: [],
    });
  });

  it("when the default value is null, then a missing value becomes null", () => {
    expect(convert("", { type: "default", value: null })).toEqual({ ok: true, output: { out: null }, warnings: [] });
  });

  it("when the default has no value, then the field fails when compiled", () => {
    expect(convert("x", { type: "default" } as MappingTransform)).toMatchObject({
      ok: false,
      failure: { field: "out", message: "transform 1 has a value that is not a string, finite number, boolean or null" },
    });
  });
});

describe("null and absent values", () => {
  it.each([["to_string"], ["to_number"], ["to_boolean"], ["to_date"], ["to_datetime"], ["trim"], ["lower"], ["upper"]] as const)(
    "when the value is null, then %s passes it on as null",
    (type) => {
      expect(convert(null, { type })).toEqual({ ok: true, output: { out: null }, warnings: [] });
    },
  );

  it("when the source is absent and there is no default, then the field is left out without a warning", () => {
    expect(convert(undefined, { type: "to_number" })).toEqual({ ok: true, output: {}, warnings: [] });
  });
});
