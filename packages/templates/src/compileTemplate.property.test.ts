import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileTemplate, renderTemplate } from "./index.js";

const names = fc.constantFrom(
  "user",
  "name",
  "items",
  "0",
  "1",
  "-1",
  "size",
  "first",
  "last",
  "constructor",
  "__proto__",
  "toString",
  "length",
);
const step = fc.oneof(
  names.map((name) => `.${name}`),
  fc.integer({ min: -3, max: 3 }).map((index) => `[${index}]`),
  names.map((name) => `["${name}"]`),
);
const path = fc.tuple(names, fc.array(step, { maxLength: 4 })).map(([first, rest]) => first + rest.join(""));
const placeholder = fc.tuple(fc.constantFrom("", " ", "  "), path, fc.constantFrom("", " ")).map(([a, p, b]) => `{{${a}${p}${b}}}`);
const fragment = fc.oneof(
  { weight: 3, arbitrary: placeholder },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom("{{", "}}", "{%", "%}", "{{ a | upcase }}", "{% for i in (1..9) %}", "{", "}", "\n") },
);
const plausibleTemplate = fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join(""));
const anyTemplate = fc.oneof(plausibleTemplate, fc.string({ maxLength: 200, unit: "binary" }));
const anyPayload = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
  key: fc.oneof(names, fc.string({ maxLength: 6 })),
});

describe("render, on any template and any payload", () => {
  it("when rendered, then it never throws and the text is never over the output limit", () => {
    fc.assert(
      fc.property(anyTemplate, anyPayload, fc.nat({ max: 300 }), (source, payload, maxOutputLength) => {
        const result = renderTemplate(source, payload, { maxOutputLength });
        expect(typeof (result.ok ? result.text : result.error)).toBe("string");
        if (result.ok) expect(result.text.length).toBeLessThanOrEqual(maxOutputLength);
      }),
      { numRuns: 2000 },
    );
  });

  it("when a template has no braces, then it renders as itself", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }).filter((s) => !s.includes("{")),
        anyPayload,
        (source, payload) => {
          expect(renderTemplate(source, payload)).toEqual({ ok: true, text: source });
        },
      ),
    );
  });

  it("when a placeholder names a string at a nested key, then it renders that string", () => {
    const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/);
    fc.assert(
      fc.property(key, key, fc.string(), fc.string({ maxLength: 20 }), (outer, inner, value, prefix) => {
        fc.pre(!prefix.includes("{"));
        const payload = { [outer]: { [inner]: value } };
        expect(renderTemplate(`${prefix}{{ ${outer}.${inner} }}`, payload)).toEqual({ ok: true, text: prefix + value });
        expect(renderTemplate(`{{["${outer}"]["${inner}"]}}`, payload)).toEqual({ ok: true, text: value });
      }),
    );
  });

  it("when compiling any string, then it never throws", () => {
    fc.assert(
      fc.property(anyTemplate, fc.nat({ max: 400 }), (source, maxSourceLength) => {
        const result = compileTemplate(source, { maxSourceLength });
        if (source.length > maxSourceLength) expect(result.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
