import { describe, expect, it } from "vitest";
import { applyMapping } from "./applyMapping.js";
import { compileMapping } from "./compileMapping.js";
import { defaultMappingLimits } from "./limits.js";
import type { MappingField, MappingSchema } from "./mappingSchema.js";

const failing = (dest: string, on_error?: MappingField["on_error"]): MappingField => ({
  dest,
  source: { type: "path", value: "word" },
  transforms: [{ type: "to_number" }],
  ...(on_error === undefined ? {} : { on_error }),
});
const good = (dest: string): MappingField => ({ dest, source: { type: "path", value: "word" } });
const payload = { word: "hello" };

describe("on_error", () => {
  it("when a skip_field field fails, then it is left out without a warning and the rest is mapped", () => {
    expect(applyMapping({ schema_version: 1, fields: [failing("a", "skip_field"), good("b")] }, payload)).toEqual({
      ok: true,
      output: { b: "hello" },
      warnings: [],
    });
  });

  it("when a warn_action field fails, then it is left out with a warning and the rest is mapped", () => {
    expect(applyMapping({ schema_version: 1, fields: [failing("a", "warn_action"), good("b")] }, payload)).toEqual({
      ok: true,
      output: { b: "hello" },
      warnings: [{ field: "a", message: "transform 1 (to_number): the string is not a decimal number" }],
    });
  });

  it("when a fail_action field fails, then the mapping fails with it, keeping the warnings before it", () => {
    const schema: MappingSchema = {
      schema_version: 1,
      fields: [failing("w", "warn_action"), good("b"), failing("f", "fail_action"), failing("later", "warn_action")],
    };
    expect(applyMapping(schema, payload)).toEqual({
      ok: false,
      failure: { field: "f", message: "transform 1 (to_number): the string is not a decimal number" },
      warnings: [{ field: "w", message: "transform 1 (to_number): the string is not a decimal number" }],
    });
  });

  it("when on_error is absent, then the field is handled as warn_action", () => {
    expect(applyMapping({ schema_version: 1, fields: [failing("a"), good("b")] }, payload)).toMatchObject({
      ok: true,
      output: { b: "hello" },
      warnings: [{ field: "a" }],
    });
  });

  it("when on_error is not one of the three, then the field is handled as warn_action", () => {
    const field = { ...failing("a"), on_error: "explode" } as unknown as MappingField;
    expect(applyMapping({ schema_version: 1, fields: [field] }, payload)).toMatchObject({ ok: true, warnings: [{ field: "a" }] });
  });

  it("when a field's source is absent, then no on_error applies: it is simply left out", () => {
    const field: MappingField = {
      dest: "a",
      source: { type: "path", value: "missing" },
      transforms: [{ type: "to_number" }],
      on_error: "fail_action",
    };
    expect(applyMapping({ schema_version: 1, fields: [field] }, payload)).toEqual({ ok: true, output: {}, warnings: [] });
  });
});

describe("sources", () => {
  it.each([["text"], [0], [false], [null]])("when the source is the literal %j, then it is written as is", (value) => {
    expect(applyMapping({ schema_version: 1, fields: [{ dest: "a", source: { type: "literal", value } }] }, null)).toEqual({
      ok: true,
      output: { a: value },
      warnings: [],
    });
  });

  it.each([[{ type: "literal", value: { x: 1 } }], [{ type: "literal", value: Number.NaN }], [{ type: "column", value: "a" }], [null]])(
    "when the source is %j, then the field fails",
    (source) => {
      const field = { dest: "a", source, on_error: "fail_action" } as unknown as MappingField;
      expect(applyMapping({ schema_version: 1, fields: [field] }, {})).toMatchObject({ ok: false, failure: { field: "a" } });
    },
  );
});

describe("malformed mappings", () => {
  it.each([
    [null],
    [42],
    ["schema"],
    [{}],
    [{ schema_version: 2, fields: [] }],
    [{ schema_version: 1 }],
    [{ schema_version: 1, fields: {} }],
  ])("when the mapping is %j, then every apply fails with the issue field empty", (schema) => {
    const result = applyMapping(schema as unknown as MappingSchema, { a: 1 });
    expect(result).toMatchObject({ ok: false, failure: { field: "" }, warnings: [] });
  });

  it("when a field is not an object, then it fails under the default on_error, named by its index", () => {
    const schema = { schema_version: 1, fields: [null, good("b")] } as unknown as MappingSchema;
    expect(applyMapping(schema, payload)).toEqual({
      ok: true,
      output: { b: "hello" },
      warnings: [{ field: "fields.0", message: "the field is not an object" }],
    });
  });

  it("when reading the schema throws, then compiling does not", () => {
    const schema = new Proxy(
      {},
      {
        get() {
          throw new Error("hostile");
        },
      },
    ) as MappingSchema;
    expect(applyMapping(schema, {})).toEqual({
      ok: false,
      failure: { field: "", message: "the mapping could not be compiled" },
      warnings: [],
    });
  });

  it("when an empty mapping is applied, then the output is an empty object", () => {
    expect(applyMapping({ schema_version: 1, fields: [] }, { a: 1 })).toEqual({ ok: true, output: {}, warnings: [] });
  });
});

describe("limits", () => {
  it("when no limits are given, then the defaults apply", () => {
    expect(compileMapping({ schema_version: 1, fields: [] }).limits).toEqual(defaultMappingLimits);
    expect(defaultMappingLimits).toEqual({ maxOutputBytes: 262144, maxStringLength: 65536 });
  });

  it("when a limit is not a number ≥ 0, then its default applies", () => {
    const limits = { maxOutputBytes: -1, maxStringLength: Number.NaN };
    expect(compileMapping({ schema_version: 1, fields: [] }, limits).limits).toEqual(defaultMappingLimits);
  });

  it("when maxOutputBytes is below 2, then it is raised to 2, the size of {}", () => {
    expect(compileMapping({ schema_version: 1, fields: [] }, { maxOutputBytes: 0 }).limits.maxOutputBytes).toBe(2);
    expect(
      applyMapping({ schema_version: 1, fields: [{ dest: "a", source: { type: "literal", value: 1 } }] }, {}, { maxOutputBytes: 0 }),
    ).toMatchObject({
      ok: true,
      output: {},
      warnings: [{ field: "a" }],
    });
  });

  it("when a field produces a string longer than maxStringLength, then the field fails under its on_error", () => {
    const schema: MappingSchema = {
      schema_version: 1,
      fields: [{ dest: "a", source: { type: "path", value: "s" }, on_error: "fail_action" }],
    };
    expect(applyMapping(schema, { s: "x".repeat(10) }, { maxStringLength: 10 })).toMatchObject({ ok: true, output: { a: "x".repeat(10) } });
    expect(applyMapping(schema, { s: "x".repeat(11) }, { maxStringLength: 10 })).toEqual({
      ok: false,
      failure: { field: "a", message: "the value is longer than 10 characters" },
      warnings: [],
    });
  });

  it("when the default output limit is reached, then the field that would exceed it fails", () => {
    const big = "x".repeat(60_000);
    const fields: MappingField[] = ["a", "b", "c", "d", "e"].map((dest) => ({ dest, source: { type: "path", value: "big" } }));
    const result = applyMapping({ schema_version: 1, fields }, { big });
    expect(result).toMatchObject({ ok: true, warnings: [{ field: "e", message: "the value would take the output over 262144 bytes" }] });
    expect(Object.keys(result.ok ? result.output : {})).toEqual(["a", "b", "c", "d"]);
  });
});

describe("values without a JSON form", () => {
  it.each([
    ["a bigint", { v: 10n }, "the value has no JSON form"],
    ["a function", { v: () => 1 }, "the value has no JSON form"],
  ])("when the value is %s, then the field fails", (_, source, message) => {
    const schema: MappingSchema = {
      schema_version: 1,
      fields: [{ dest: "a", source: { type: "path", value: "v" }, on_error: "fail_action" }],
    };
    expect(applyMapping(schema, source)).toEqual({ ok: false, failure: { field: "a", message }, warnings: [] });
  });

  it("when the value is a cyclic object, then the field fails", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const schema: MappingSchema = {
      schema_version: 1,
      fields: [{ dest: "a", source: { type: "path", value: "v" }, on_error: "fail_action" }],
    };
    expect(applyMapping(schema, { v: cyclic })).toMatchObject({ ok: false, failure: { field: "a" } });
  });
});

describe("compiled mappings", () => {
  it("when a compiled mapping is applied to many payloads, then each result is its own", () => {
    const compiled = compileMapping({ schema_version: 1, fields: [{ dest: "p.e", source: { type: "path", value: "e" } }] });
    const first = compiled.apply({ e: 1 });
    const second = compiled.apply({ e: 2 });
    expect([first, second]).toEqual([
      { ok: true, output: { p: { e: 1 } }, warnings: [] },
      { ok: true, output: { p: { e: 2 } }, warnings: [] },
    ]);
  });
});
