import { describe, expect, it } from "vitest";
import { applyMapping } from "../applyMapping.js";
import type { MappingTransform } from "../mappingSchema.js";

function convert(value: unknown, ...transforms: MappingTransform[]) {
  return applyMapping(
    { schema_version: 1, fields: [{ dest: "out", source: { type: "path", value: "in" }, transforms, on_error: "fail_action" }] },
    { in: value },
  );
}

describe("trim, lower, upper", () => {
  it.each([
    [" \t a b \n", { type: "trim" }, "a b"],
    ["\u00a0x\u2003", { type: "trim" }, "x"],
    ["MiXeD İ", { type: "lower" }, "mixed i̇"],
    ["straße", { type: "upper" }, "STRASSE"],
    ["", { type: "upper" }, ""],
  ] as const)("when the value is %j and the transform %j, then it gives %j", (value, transform, expected) => {
    expect(convert(value, transform)).toEqual({ ok: true, output: { out: expected }, warnings: [] });
  });

  it.each([["trim"], ["lower"], ["upper"]] as const)("when %s is given a number, then the field fails (to_string first)", (type) => {
    expect(convert(12, { type })).toEqual({
      ok: false,
      failure: { field: "out", message: `transform 1 (${type}): expects a string, got a number` },
      warnings: [],
    });
    expect(convert(12, { type: "to_string" }, { type })).toMatchObject({ ok: true, output: { out: "12" } });
  });
});

describe("substring", () => {
  it.each([
    ["abcdef", 0, 3, "abc"],
    ["abcdef", 2, undefined, "cdef"],
    ["abcdef", 4, 10, "ef"],
    ["abcdef", 6, undefined, ""],
    ["abcdef", 99, 1, ""],
    ["a😀b😀c", 1, 3, "😀b😀"],
    ["😀😀😀", 2, undefined, "😀"],
  ])("when %j is cut from %i for %s, then it gives %j", (value, start, length, expected) => {
    const transform: MappingTransform = length === undefined ? { type: "substring", start } : { type: "substring", start, length };
    expect(convert(value, transform)).toEqual({ ok: true, output: { out: expected }, warnings: [] });
  });

  it("when the value is not a string, then the field fails", () => {
    expect(convert(123456, { type: "substring", start: 0, length: 2 })).toMatchObject({ ok: false, failure: { field: "out" } });
  });

  it.each([
    [{ start: -1 }, "transform 1 has a start that is not an integer ≥ 0"],
    [{ start: 1.5 }, "transform 1 has a start that is not an integer ≥ 0"],
    [{ start: 0, length: 0 }, "transform 1 has a length that is not an integer ≥ 1"],
    [{ start: 0, length: "2" }, "transform 1 has a length that is not an integer ≥ 1"],
    [{}, "transform 1 has a start that is not an integer ≥ 0"],
  ])("when the arguments are %j, then the field fails with %j", (args, message) => {
    expect(convert("abc", { type: "substring", ...args } as MappingTransform)).toEqual({
      ok: false,
      failure: { field: "out", message },
      warnings: [],
    });
  });
});

describe("transform chains", () => {
  it("when transforms are chained, then each takes the previous one's value", () => {
    const transforms: MappingTransform[] = [
      { type: "to_string" },
      { type: "trim" },
      { type: "substring", start: 0, length: 3 },
      { type: "to_number" },
    ];
    expect(convert(12345.6, ...transforms)).toEqual({ ok: true, output: { out: 123 }, warnings: [] });
  });

  it("when a later transform fails, then its position and type are in the message", () => {
    expect(convert(" x ", { type: "trim" }, { type: "to_number" })).toEqual({
      ok: false,
      failure: { field: "out", message: "transform 2 (to_number): the string is not a decimal number" },
      warnings: [],
    });
  });

  it("when a transform has an unknown type, then the field fails", () => {
    expect(convert("x", { type: "reverse" } as unknown as MappingTransform)).toEqual({
      ok: false,
      failure: { field: "out", message: "transform 1 has an unknown type" },
      warnings: [],
    });
  });
});
