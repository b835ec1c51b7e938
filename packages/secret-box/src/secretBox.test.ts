import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox, secretContext } from "./secretBox.js";

/** The first sealed form, as earlier versions wrote it: no associated data. */
function sealV1(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
}

describe("createSecretBox", () => {
  const key = randomBytes(32);
  const box = createSecretBox(key);
  const here = secretContext.connection("0190a0b0-0000-7000-8000-000000000001");

  it("when a secret is sealed, then it opens to the same text and the sealed form does not contain it", () => {
    const sealed = box.seal("s3cret-value", here);
    expect(sealed).not.toContain("s3cret-value");
    expect(box.open(sealed, here)).toBe("s3cret-value");
  });

  it("when the same secret is sealed twice, then the sealed forms differ (fresh IV)", () => {
    expect(box.seal("x", here)).not.toBe(box.seal("x", here));
  });

  it.each([
    ["another key", (sealed: string) => createSecretBox(randomBytes(32)).open(sealed, here)],
    ["a tampered ciphertext", (sealed: string) => box.open(`${sealed.slice(0, -2)}AA`, here)],
    ["an unknown version", (sealed: string) => box.open(sealed.replace(/^v2/, "v9"), here)],
    ["another row's context", (sealed: string) => box.open(sealed, secretContext.connection("0190a0b0-0000-7000-8000-000000000002"))],
    ["another column's context", (sealed: string) => box.open(sealed, secretContext.accessKey("0190a0b0-0000-7000-8000-000000000001"))],
    [
      "its tag cut to 4 bytes",
      (sealed: string) => {
        const [version, iv, tag = "", ciphertext] = sealed.split(".");
        return box.open([version, iv, Buffer.from(tag, "base64url").subarray(0, 4).toString("base64url"), ciphertext].join("."), here);
      },
    ],
    ["as a legacy secret", (sealed: string) => box.openLegacy(sealed)],
  ])("when opened with %s, then it throws", (_case, open) => {
    const sealed = box.seal("secret", here);
    expect(() => open(sealed)).toThrow();
  });

  it("when a secret of the first form (no context) is opened, then only openLegacy opens it, and never with a cut tag", () => {
    const legacy = sealV1(key, "old-secret");
    expect(box.openLegacy(legacy)).toBe("old-secret");
    expect(() => box.open(legacy, here)).toThrow();
    const [version, iv, tag = "", ciphertext] = legacy.split(".");
    const cut = [version, iv, Buffer.from(tag, "base64url").subarray(0, 4).toString("base64url"), ciphertext].join(".");
    expect(() => box.openLegacy(cut)).toThrow();
  });

  it("when the key is not 32 bytes, then creating the box throws", () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow();
  });
});
