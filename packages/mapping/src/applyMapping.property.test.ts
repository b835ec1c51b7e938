import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyMapping } from "./applyMapping.js";
import type { MappingResult } from "./mappingResult.js";
import type { MappingField, MappingOnError, MappingScalar, MappingSchema, MappingTransform } from "./mappingSchema.js";

/** Keys that payloads, source paths and dests share, so that paths often resolve and dests often collide. */
const keys = ["a", "b", "email", "items", "0", "1", "toString", "constructor", "__proto__", "prototype"];

const scalar: fc.Arbitrary<MappingScalar> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);

const timezone = fc.option(
  fc.constantFrom("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Mars/Nowhere"),
  {
    nil: undefined,
  },
);

const transform: fc.Arbitrary<MappingTransform> = fc.oneof(
  fc.constantFrom<MappingTransform>(
    { type: "to_string" },
    { type: "to_number" },
    { type: "to_boolean" },
    { type: "trim" },
    { type: "lower" },
    { type: "upper" },
  ),
  fc.record({ type: fc.constantFrom("to_date" as const, "to_datetime" as const), timezone }, { requiredKeys: ["type"] }),
  fc.record({ type: fc.constant("default" as const), value: scalar }),
  fc.record(
    { type: fc.constant("substring" as const), start: fc.nat(20), length: fc.integer({ min: 1, max: 20 }) },
    { requiredKeys: ["type", "start"] },
  ),
);

const path = fc.array(fc.constantFrom(...keys), { minLength: 1, maxLength: 4 }).map((segments) => segments.join("."));

const onError = fc.option(fc.constantFrom<MappingOnError>("skip_field", "warn_action", "fail_action"), { nil: undefined });

function field(dest: fc.Arbitrary<string>): fc.Arbitrary<MappingField> {
  return fc.record(
    {
      dest,
      source: fc.oneof(
        fc.record({ type: fc.constant("path" as const), value: path }),
        fc.record({ type: fc.constant("literal" as const), value: scalar }),
      ),
      transforms: fc.array(transform, { maxLength: 10 }),
      on_error: onError,
    },
    { requiredKeys: ["dest", "source"] },
  );
}

const schema = (dest: fc.Arbitrary<string>): fc.Arbitrary<MappingSchema> =>
  fc.record({ schema_version: fc.constant(1 as const), fields: fc.array(field(dest), { maxLength: 20 }) });

/** Payloads whose keys are the paths' keys, with leaves that the transforms convert or refuse. */
const leaf = fc.oneof(
  scalar,
  fc.constantFrom(" 42 ", "yes", "off", "2024-03-09", "2024-03-09T23:30:00Z", "2024-03-10T02:30", "0x10", "", 1710027000, 1e300, -0),
);
const shapedPayload = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    leaf,
    fc.dictionary(fc.constantFrom(...keys), tie("node"), { maxKeys: 5 }),
    fc.array(tie("node"), { maxLength: 3 }),
  ),
})).node;

const anyPayload = fc.anything({
  key: fc.oneof(fc.string(), fc.constantFrom(...keys)),
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withObjectString: true,
});

const payload = fc.oneof(shapedPayload, anyPayload);
const nestedDest = fc.array(fc.constantFrom(...keys), { minLength: 1, maxLength: 3 }).map((segments) => segments.join("."));

function expectWellFormed(result: MappingResult): void {
  expect(typeof result.ok).toBe("boolean");
  for (const issue of [...result.warnings, ...(result.ok ? [] : [result.failure])]) {
    expect(typeof issue.field).toBe("string");
    expect(typeof issue.message).toBe("string");
  }
  if (result.ok) expect(Object.getPrototypeOf(result.output)).toBe(Object.prototype);
}

function deep(depth: number, leafValue: unknown, asArray: boolean): unknown {
  let value = leafValue;
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
  return value;
}

describe("applyMapping, for any mapping and payload", () => {
  it("when applied, then it never throws and the result is well formed", () => {
    fc.assert(
      fc.property(schema(nestedDest), payload, (mapping, input) => {
        expectWellFormed(applyMapping(mapping, input));
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it("when the mapping itself is any value at all, then it never throws", () => {
    fc.assert(
      fc.property(anyPayload, anyPayload, (mapping, input) => {
        expectWellFormed(applyMapping(mapping as MappingSchema, input));
      }),
      { numRuns: 500 },
    );
  });

  it("when the payload is nested tens of thousands of levels deep, then it never throws", () => {
    fc.assert(
      fc.property(schema(nestedDest), fc.integer({ min: 1_000, max: 50_000 }), fc.boolean(), (mapping, depth, asArray) => {
        const input = { a: deep(depth, "x", asArray), b: deep(depth, 1, !asArray) };
        const passThrough: MappingField = { dest: "whole", source: { type: "path", value: "a" } };
        expectWellFormed(applyMapping({ ...mapping, fields: [...mapping.fields, passThrough] }, input));
      }),
      { numRuns: 30 },
    );
  });

  it("when an output limit is given, then the serialized output never exceeds it", () => {
    fc.assert(
      fc.property(schema(nestedDest), shapedPayload, fc.integer({ min: 2, max: 600 }), (mapping, input, maxOutputBytes) => {
        const result = applyMapping(mapping, input, { maxOutputBytes });
        if (result.ok) expect(Buffer.byteLength(JSON.stringify(result.output))).toBeLessThanOrEqual(maxOutputBytes);
      }),
      { numRuns: 1000 },
    );
  });

  it("when a field's on_error is honoured, then fields failing alone are absent for skip and warn, warned only for warn, and fail the mapping for fail_action", () => {
    const distinctDests = schema(fc.constant("")).map((mapping) => ({
      ...mapping,
      fields: mapping.fields.map((one, index) => ({ ...one, dest: `f${index}` })),
    }));
    fc.assert(
      fc.property(distinctDests, shapedPayload, (mapping, input) => {
        const alone = mapping.fields.map((one) =>
          applyMapping({ schema_version: 1, fields: [{ ...one, on_error: "fail_action" }] }, input),
        );
        const result = applyMapping(mapping, input);
        const firstFatal = mapping.fields.findIndex((one, index) => one.on_error === "fail_action" && !alone[index]?.ok);
        const end = firstFatal === -1 ? mapping.fields.length : firstFatal;
        const expectedWarnings = mapping.fields
          .slice(0, end)
          .filter((one, index) => (one.on_error ?? "warn_action") === "warn_action" && !alone[index]?.ok)
          .map((one) => one.dest);
        expect(result.warnings.map((issue) => issue.field)).toEqual(expectedWarnings);
        if (firstFatal !== -1) {
          expect(result).toMatchObject({ ok: false, failure: { field: `f${firstFatal}` } });
          return;
        }
        const expectedOutput = Object.assign({}, ...alone.map((one) => (one.ok ? one.output : {})));
        expect(result).toMatchObject({ ok: true });
        expect(result.ok && result.output).toEqual(expectedOutput);
      }),
      { numRuns: 1000 },
    );
  });
});
