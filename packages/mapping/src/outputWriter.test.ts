import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyMapping } from "./applyMapping.js";
import { compileDestPath, type DestSegment } from "./destPath.js";
import type { MappingField } from "./mappingSchema.js";
import { OutputWriter } from "./outputWriter.js";

function literal(dest: string, value: string | number | boolean | null, on_error: MappingField["on_error"] = "warn_action"): MappingField {
  return { dest, source: { type: "literal", value }, on_error };
}

function map(fields: MappingField[], maxOutputBytes?: number) {
  return applyMapping({ schema_version: 1, fields }, {}, maxOutputBytes === undefined ? undefined : { maxOutputBytes });
}

describe("dest paths", () => {
  it("when dests are dot paths, then nested objects are written and shared between fields", () => {
    expect(map([literal("properties.email", "a@b.c"), literal("properties.address.city", "Oslo"), literal("id", 1)])).toEqual({
      ok: true,
      output: { properties: { email: "a@b.c", address: { city: "Oslo" } }, id: 1 },
      warnings: [],
    });
  });

  it("when a dest needs an object where another field wrote a value, then that later field fails", () => {
    expect(map([literal("a", 1), literal("a.b", 2)])).toEqual({
      ok: true,
      output: { a: 1 },
      warnings: [{ field: "a.b", message: "the dest collides with the value another field wrote at a" }],
    });
  });

  it("when a dest is where other fields made an object, then that later field fails", () => {
    expect(map([literal("a.b.c", 1), literal("a.b", 2)])).toEqual({
      ok: true,
      output: { a: { b: { c: 1 } } },
      warnings: [{ field: "a.b", message: "the dest is already an object holding other fields" }],
    });
  });

  it("when two fields write the same dest, then the first is kept and the second fails", () => {
    expect(map([literal("a", 1), literal("a", 2)])).toMatchObject({ output: { a: 1 }, warnings: [{ field: "a" }] });
  });

  it("when the earlier of two colliding fields is absent, then the later one is written", () => {
    const absent: MappingField = { dest: "a", source: { type: "path", value: "missing" } };
    expect(map([absent, literal("a.b", 2)])).toEqual({ ok: true, output: { a: { b: 2 } }, warnings: [] });
  });

  it("when a value taken from the payload is at a dest, then a later field never writes into the payload's object", () => {
    const payload = { user: { name: "Ada" } };
    const result = applyMapping(
      {
        schema_version: 1,
        fields: [
          { dest: "user", source: { type: "path", value: "user" } },
          { dest: "user.email", source: { type: "literal", value: "x" } },
        ],
      },
      payload,
    );
    expect(result).toMatchObject({ ok: true, output: { user: { name: "Ada" } }, warnings: [{ field: "user.email" }] });
    expect(payload).toEqual({ user: { name: "Ada" } });
  });

  it.each([
    ["__proto__"],
    ["__proto__.polluted"],
    ["a.__proto__.polluted"],
    ["constructor.prototype.polluted"],
    ["a.prototype"],
    ["constructor"],
  ])("when the dest is %s, then the field fails and no prototype is touched", (dest) => {
    const result = map([literal(dest, "yes", "fail_action")]);
    expect(result).toMatchObject({ ok: false, failure: { field: dest, message: expect.stringMatching(/^the dest may not use the key /) } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("when dests are named like Object.prototype's methods, then they are written as own keys", () => {
    const result = map([literal("toString", "a"), literal("hasOwnProperty.x", "b")]);
    expect(result).toEqual({ ok: true, output: { toString: "a", hasOwnProperty: { x: "b" } }, warnings: [] });
  });

  it.each([[""], ["a..b"], ["a."]])("when the dest is %j, then the field fails", (dest) => {
    expect(map([literal(dest, 1, "fail_action")])).toMatchObject({
      ok: false,
      failure: { field: dest, message: expect.stringContaining("dest") },
    });
  });
});

describe("output size", () => {
  const fields = [literal("a.b", "é"), literal("a.c", 12), literal("d", null), literal("e", 'x\n"y')];
  const exact = Buffer.byteLength(JSON.stringify({ a: { b: "é", c: 12 }, d: null, e: 'x\n"y' }));

  it("when the limit is the output's exact size, then every field is written", () => {
    expect(map(fields, exact)).toMatchObject({ ok: true, warnings: [] });
  });

  it("when the limit is one byte less, then the last field is refused and the output stays within it", () => {
    const result = map(fields, exact - 1);
    expect(result).toEqual({
      ok: true,
      output: { a: { b: "é", c: 12 }, d: null },
      warnings: [{ field: "e", message: `the value would take the output over ${exact - 1} bytes` }],
    });
  });

  it("when a big field does not fit, then smaller later ones still do", () => {
    const result = map([literal("big", "x".repeat(200)), literal("small", 1)], 100);
    expect(result).toEqual({
      ok: true,
      output: { small: 1 },
      warnings: [{ field: "big", message: "the value would take the output over 100 bytes" }],
    });
  });
});

describe("OutputWriter's size", () => {
  it("when any values are written at any dests, then its count of bytes is exactly the serialized output's", () => {
    const key = fc.oneof(
      fc.constantFrom("a", "b", "0", "é", 'q"uote'),
      fc.string({ unit: "binary", minLength: 1, maxLength: 4 }).filter((k) => !k.includes(".")),
    );
    const dest = fc.array(key, { minLength: 1, maxLength: 3 }).map((keys) => compileDestPath(keys.join(".")));
    const write = fc.tuple(dest, fc.jsonValue({ maxDepth: 2 }));
    fc.assert(
      fc.property(fc.array(write, { maxLength: 15 }), (writes) => {
        const writer = new OutputWriter(Number.POSITIVE_INFINITY);
        for (const [path, value] of writes) {
          if (typeof path === "string") continue;
          writer.write(path as readonly DestSegment[], value, Buffer.byteLength(JSON.stringify(value)));
          expect(writer.bytes).toBe(Buffer.byteLength(JSON.stringify(writer.root)));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
