import { describe, expect, it } from "vitest";
import { uuidv5, uuidv7 } from "./ids.js";

describe("uuidv7", () => {
  it("when made, then it is a version-7, variant-10 UUID carrying the millisecond timestamp", () => {
    const id = uuidv7(0x0192f0c48e3a);
    expect(id).toMatch(/^0192f0c4-8e3a-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("when many are made in the same millisecond, then they still sort in creation order", () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(0x0192f0c48e3b));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("when the clock steps back, then ids keep increasing", () => {
    const later = uuidv7(0x0192f0c49000);
    const earlier = uuidv7(0x0192f0c48000);
    expect(earlier > later).toBe(true);
  });
});

describe("uuidv5", () => {
  it("when given RFC 9562's example (the DNS namespace, www.example.com), then it answers the RFC's UUID", () => {
    expect(uuidv5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });

  it("when the name differs, then so does the id", () => {
    const ns = "0190d6a0-0000-7000-8000-000000000001";
    expect(uuidv5(ns, "event:a")).not.toBe(uuidv5(ns, "resource:a"));
  });
});
