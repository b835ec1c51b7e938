import { describe, expect, it } from "vitest";
import { applyMapping } from "./applyMapping.js";

function read(path: string, payload: unknown) {
  return applyMapping(
    { schema_version: 1, fields: [{ dest: "out", source: { type: "path", value: path }, on_error: "fail_action" }] },
    payload,
  );
}

describe("source paths", () => {
  const payload = {
    email: "a@example.com",
    user: { name: "Ada", tags: ["x", "y"] },
    items: [{ sku: "s1" }, { sku: "s2", qty: 0 }],
    matrix: [[1, 2], [3]],
    "0": "zero key",
    nothing: null,
  };

  it.each([
    ["email", "a@example.com"],
    ["user.name", "Ada"],
    ["user.tags.1", "y"],
    ["items.0.sku", "s1"],
    ["items.1.qty", 0],
    ["matrix.1.0", 3],
    ["0", "zero key"],
    ["nothing", null],
    ["user", { name: "Ada", tags: ["x", "y"] }],
    ["user.tags", ["x", "y"]],
  ])("when the path is %s, then it reads %j", (path, expected) => {
    expect(read(path, payload)).toEqual({ ok: true, output: { out: expected }, warnings: [] });
  });

  it.each([
    ["missing"],
    ["user.missing"],
    ["items.2.sku"],
    ["items.01.sku"],
    ["items.-1"],
    ["items.length"],
    ["email.length"],
    ["email.0"],
    ["nothing.x"],
  ])("when the path %s does not resolve, then the field is left out without a warning", (path) => {
    expect(read(path, payload)).toEqual({ ok: true, output: {}, warnings: [] });
  });

  it.each([
    ["toString"],
    ["constructor"],
    ["__proto__"],
    ["hasOwnProperty"],
    ["user.constructor.name"],
    ["items.constructor"],
    ["__proto__.toString"],
  ])("when the path %s names an inherited property, then it reads as absent", (path) => {
    expect(read(path, payload)).toEqual({ ok: true, output: {}, warnings: [] });
  });

  it("when the payload has an own __proto__ key (JSON.parse makes one), then it still reads as absent", () => {
    expect(read("__proto__.polluted", JSON.parse('{"__proto__": {"polluted": 1}}'))).toEqual({ ok: true, output: {}, warnings: [] });
  });

  it("when the payload has own keys named like Object.prototype's, then they are read", () => {
    expect(read("constructor", { constructor: "own" })).toEqual({ ok: true, output: { out: "own" }, warnings: [] });
  });

  it("when an array has a hole, then the hole reads as absent even if Array.prototype has that index", () => {
    const sparse = [1, 2, 3];
    delete sparse[1];
    Object.defineProperty(Array.prototype, "1", { value: "inherited", configurable: true, writable: true });
    let result: unknown;
    try {
      result = read("a.1", { a: sparse });
    } finally {
      delete (Array.prototype as unknown as Record<string, unknown>)["1"];
    }
    expect(result).toEqual({ ok: true, output: {}, warnings: [] });
  });

  it.each([[null], [undefined], ["text"], [42], [[1, 2]]])("when the payload is %j, then paths read as absent", (value) => {
    expect(read("a.b", value)).toEqual({ ok: true, output: {}, warnings: [] });
  });

  it("when the payload is nested 100 000 levels deep, then a path reads through it", () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const path = Array.from({ length: 100_000 }, () => "a").join(".");
    expect(read(path, deep)).toEqual({ ok: true, output: { out: "bottom" }, warnings: [] });
  });

  it.each([[""], ["a..b"], [".a"], ["a."]])("when the path is %j, then the field fails", (path) => {
    expect(read(path, { a: { b: 1 } })).toMatchObject({ ok: false, failure: { field: "out" } });
  });

  it("when a getter throws while reading, then the field fails under its on_error", () => {
    const payload = Object.defineProperty({}, "boom", {
      enumerable: true,
      get() {
        throw new Error("no");
      },
    });
    expect(read("boom", payload)).toMatchObject({
      ok: false,
      failure: { field: "out", message: expect.stringContaining("could not be produced") },
    });
  });
});
