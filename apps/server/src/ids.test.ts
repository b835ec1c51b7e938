import { describe, expect, it } from "vitest";
import { uuidv7 } from "./ids.js";

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
