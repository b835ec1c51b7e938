import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createEventInputValidator } from "./createEventInputValidator.js";
import { defaultIngestLimits } from "./limits.js";

// The schema under test is the spec's own EventInput, as the server compiles it.
const spec = parse(readFileSync(fileURLToPath(import.meta.resolve("@switchyard/openapi/openapi.yaml")), "utf8"));
const validate = createEventInputValidator(spec.components.schemas.EventInput, defaultIngestLimits);

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
};

describe("createEventInputValidator", () => {
  it.each([
    ["a minimal event", { event: "a", payload: {} }],
    [
      "every field",
      {
        event: "invoice.paid",
        payload: { a: [1, { b: null }] },
        resource: "invoice",
        resource_id: "inv_1",
        workspace: "0192f0c4-8e3a-7b8c-9d1e-2f3a4b5c6d7e",
      },
    ],
    ["a 255-character name", { event: "e".repeat(255), payload: {} }],
    ["non-ASCII printable names and payloads", { event: "commande.créée ✓", payload: { emoji: "🚀", text: "naïve" } }],
    ["paired surrogates (an emoji) in a payload key", { event: "a", payload: { "🚀": 1 } }],
    ["a literal backslash-u-0000 text (escaped backslash, not NUL)", { event: "a", payload: { s: "\\u0000" } }],
    ["nesting exactly at the depth limit", { event: "a", payload: { x: nested(defaultIngestLimits.maxPayloadDepth - 1) } }],
  ])("when the item is %s, then it is accepted", (_case, item) => {
    const verdict = validate(item);
    expect(verdict.ok).toBe(true);
    if (verdict.ok) expect(JSON.parse(verdict.value.payloadJson)).toEqual((item as { payload: unknown }).payload);
  });

  it.each([
    ["null", null, "item"],
    ["a number", 42, "item"],
    ["an array", [], "item"],
    ["missing its event", { payload: {} }, "event"],
    ["missing its payload", { event: "a" }, "payload"],
    ["an empty name", { event: "", payload: {} }, "event"],
    ["a 256-character name", { event: "e".repeat(256), payload: {} }, "event"],
    ["a name with a newline", { event: "a\nb", payload: {} }, "event"],
    ["a name with a lone surrogate", { event: "a\ud800", payload: {} }, "event"],
    ["a numeric name", { event: 5, payload: {} }, "event"],
    ["a string payload", { event: "a", payload: "x" }, "payload"],
    ["a null payload", { event: "a", payload: null }, "payload"],
    ["an array payload", { event: "a", payload: [] }, "payload"],
    ["a numeric resource", { event: "a", payload: {}, resource: 1 }, "resource"],
    ["a resource_id with U+0000", { event: "a", payload: {}, resource_id: "x\u0000" }, "resource_id"],
    ["a bad workspace", { event: "a", payload: {}, workspace: "not-a-uuid" }, "workspace"],
    // PostgreSQL's uuid type refuses the URN form that ajv-formats' uuid accepts (it was a 500 with a machine token).
    ["a urn:uuid: workspace", { event: "a", payload: {}, workspace: "urn:uuid:0192f0c4-8e3a-7b8c-9d1e-2f3a4b5c6d7e" }, "workspace"],
    ["an unknown field", { event: "a", payload: {}, extra: true }, "extra"],
    ["an idempotency key with U+0000", { event: "a", payload: {}, idempotency_key: "k\u0000" }, "idempotency_key"],
    ["an idempotency key with a lone surrogate", { event: "a", payload: {}, idempotency_key: "k\udfff" }, "idempotency_key"],
    ["U+0000 in a payload value", { event: "a", payload: { s: "a\u0000" } }, "payload"],
    ["U+0000 in a payload key", { event: "a", payload: { "k\u0000": 1 } }, "payload"],
    ["a lone high surrogate in a payload", { event: "a", payload: { s: "\ud83d" } }, "payload"],
    ["a lone low surrogate deep in a payload", { event: "a", payload: { a: [{ b: "x\ude00" }] } }, "payload"],
    // JSON.parse turns a number beyond a double into ±Infinity, which JSON.stringify would store as null.
    ["a payload number beyond a double (1e400)", { event: "a", payload: JSON.parse('{"n":1e400}') }, "payload"],
    ["a negative overflow deep in a payload", { event: "a", payload: JSON.parse('{"a":[1,{"b":-1e999}]}') }, "payload"],
    ["nesting one past the depth limit", { event: "a", payload: { x: nested(defaultIngestLimits.maxPayloadDepth) } }, "payload"],
    ["a payload over 64 KiB", { event: "a", payload: { s: "x".repeat(64 * 1024) } }, "payload"],
    ["a payload over 64 KiB in UTF-8 bytes though not in characters", { event: "a", payload: { s: "é".repeat(33 * 1024) } }, "payload"],
  ])("when the item is %s, then it is rejected naming the offending field", (_case, item, param) => {
    const verdict = validate(item);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.error).toMatchObject({ status: 400, name: "ValidationError" });
      expect(verdict.error.data?.map((d) => d.param)).toContain(param);
    }
  });

  it("when the workspace is upper-case, then it is accepted in the lower-case form PostgreSQL compares", () => {
    const verdict = validate({ event: "a", payload: {}, workspace: "0192F0C4-8E3A-7B8C-9D1E-2F3A4B5C6D7E" });
    expect(verdict.ok && verdict.value.workspace).toBe("0192f0c4-8e3a-7b8c-9d1e-2f3a4b5c6d7e");
  });

  it("when a hostile depth is sent, then it is rejected without overflowing the stack", () => {
    const verdict = validate({ event: "a", payload: { x: nested(200_000) } });
    expect(verdict.ok).toBe(false);
  });

  it("when limits are configured, then they replace the defaults", () => {
    const strict = createEventInputValidator(spec.components.schemas.EventInput, {
      ...defaultIngestLimits,
      maxEventNameLength: 3,
      maxPayloadBytes: 10,
    });
    expect(strict({ event: "abcd", payload: {} }).ok).toBe(false);
    expect(strict({ event: "abc", payload: { s: "0123456789" } }).ok).toBe(false);
    expect(strict({ event: "abc", payload: { s: "0" } }).ok).toBe(true);
  });

  it("when the item is the whole body, then a root error names the given root", () => {
    const verdict = validate("x", "body");
    expect(!verdict.ok && verdict.error.data).toEqual([{ param: "body", msg: "must be object" }]);
  });
});
