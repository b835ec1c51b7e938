import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox } from "./secretBox.js";

describe("createSecretBox", () => {
  const box = createSecretBox(randomBytes(32));

  it("when a secret is sealed, then it opens to the same text and the sealed form does not contain it", () => {
    const sealed = box.seal("s3cret-value");
    expect(sealed).not.toContain("s3cret-value");
    expect(box.open(sealed)).toBe("s3cret-value");
  });

  it("when the same secret is sealed twice, then the sealed forms differ (fresh IV)", () => {
    expect(box.seal("x")).not.toBe(box.seal("x"));
  });

  it.each([
    ["another key", (sealed: string) => createSecretBox(randomBytes(32)).open(sealed)],
    ["a tampered ciphertext", (sealed: string) => box.open(`${sealed.slice(0, -2)}AA`)],
    ["an unknown version", (sealed: string) => box.open(sealed.replace(/^v1/, "v9"))],
  ])("when opened with %s, then it throws", (_case, open) => {
    const sealed = box.seal("secret");
    expect(() => open(sealed)).toThrow();
  });

  it("when the key is not 32 bytes, then creating the box throws", () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow();
  });
});
