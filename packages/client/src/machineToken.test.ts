import { decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { mintMachineToken } from "./machineToken.js";

const credentials = {
  accessKey: "mk_abcdefghijklmnopqrstuvwx",
  secretKey: "s".repeat(43),
  organizationId: "1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b",
};

describe("mintMachineToken", () => {
  it("when minted, then it verifies with the secret's UTF-8 bytes and carries the contract's claims", async () => {
    const now = Date.UTC(2026, 10, 26, 12, 0, 0);
    const token = await mintMachineToken(credentials, now);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT", kid: credentials.accessKey });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(credentials.secretKey), {
      algorithms: ["HS256"],
      issuer: `urn:meshes:m2m:${credentials.accessKey}`,
      audience: "meshes-api",
      currentDate: new Date(now),
    });
    expect(payload).toEqual({
      iss: `urn:meshes:m2m:${credentials.accessKey}`,
      aud: "meshes-api",
      org: credentials.organizationId,
      iat: now / 1000,
      exp: now / 1000 + 30,
    });
  });

  it("when verified with another secret, then verification fails", async () => {
    const token = await mintMachineToken(credentials);
    await expect(jwtVerify(token, new TextEncoder().encode("t".repeat(43)))).rejects.toThrow();
  });
});
