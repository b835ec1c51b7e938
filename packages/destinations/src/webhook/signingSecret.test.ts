import { describe, expect, it } from "vitest";
import { activeSigningSecrets, generateSigningSecret, rotateSigningSecret, signingSecretProblem } from "./signingSecret.js";

describe("signing secrets", () => {
  it("when a secret is generated, then it is whsec_ and the base64 of 32 fresh random bytes", () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(signingSecretProblem(secret)).toBeUndefined();
    expect(generateSigningSecret()).not.toBe(secret);
  });

  it.each([
    [42, "must be a string starting with whsec_"],
    ["sk_abc", "must be a string starting with whsec_"],
    ["whsec_not base64!", "standard base64"],
    [`whsec_${Buffer.alloc(32, 1).toString("base64url")}`, "standard base64"],
    [`whsec_${Buffer.alloc(16, 1).toString("base64")}`, "24 to 64 bytes (got 16)"],
    [`whsec_${Buffer.alloc(65, 1).toString("base64")}`, "24 to 64 bytes (got 65)"],
  ])("when the secret is %j, then it is refused: %s", (value, problem) => {
    expect(signingSecretProblem(value)).toContain(problem);
  });

  it.each([24, 64])("when the secret encodes %d bytes, then it is accepted", (bytes) => {
    expect(signingSecretProblem(`whsec_${Buffer.alloc(bytes, 7).toString("base64")}`)).toBeUndefined();
  });

  const now = new Date("2026-03-10T12:00:00.000Z");
  const original = { signing_secret: generateSigningSecret(), token: "t0ken" };

  it("when a secret is rotated, then a new one is current and the old one signs until the grace period ends", () => {
    const rotated = rotateSigningSecret(original, now, 60_000);
    expect(rotated.signing_secret).not.toBe(original.signing_secret);
    expect(signingSecretProblem(rotated.signing_secret)).toBeUndefined();
    expect(rotated.previous_signing_secret).toEqual({ secret: original.signing_secret, expires_at: "2026-03-10T12:01:00.000Z" });
    expect(rotated.token).toBe("t0ken");
    expect(activeSigningSecrets(rotated, new Date("2026-03-10T12:00:59.999Z"))).toEqual([rotated.signing_secret, original.signing_secret]);
    expect(activeSigningSecrets(rotated, new Date("2026-03-10T12:01:00.000Z"))).toEqual([rotated.signing_secret]);
  });

  it("when a secret is rotated twice within the grace period, then only the one just replaced keeps signing", () => {
    const once = rotateSigningSecret(original, now, 60_000);
    const twice = rotateSigningSecret(once, now, 60_000);
    expect(twice.previous_signing_secret?.secret).toBe(once.signing_secret);
    expect(activeSigningSecrets(twice, now)).toEqual([twice.signing_secret, once.signing_secret]);
  });

  it("when the grace period is 0, then the old secret stops signing at once", () => {
    const rotated = rotateSigningSecret(rotateSigningSecret(original, now, 60_000), now, 0);
    expect(rotated.previous_signing_secret).toBeUndefined();
    expect(activeSigningSecrets(rotated, now)).toEqual([rotated.signing_secret]);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("when the grace period is %d, then rotation is refused", (graceMs) => {
    expect(() => rotateSigningSecret(original, now, graceMs)).toThrowError(RangeError);
  });
});
