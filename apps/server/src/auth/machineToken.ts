import { decodeProtectedHeader, errors, jwtVerify } from "jose";
import { UnauthorizedError } from "../http/errors.js";
import { accessKeyPattern } from "./credentials.js";

/** A machine token may live at most this long (`exp - iat`); the official SDKs mint a fresh 30 s token per request. */
export const maxTokenLifetimeSeconds = 60;

export interface MachineKey {
  readonly organizationId: string;
  readonly secretKey: string;
}

export interface VerifyMachineTokenOptions {
  /** The active key for a `kid`, or undefined when unknown or revoked. */
  readonly findKey: (accessKey: string) => Promise<MachineKey | undefined>;
  readonly clockSkewSeconds: number;
  readonly now?: Date;
}

const encoder = new TextEncoder();

/**
 * Verifies a machine JWT and returns its organization and access key. Accepted: HS256 keyed by the access
 * key's secret, `kid` an active access key, `iss` `urn:meshes:m2m:<kid>`, `aud` `meshes-api`, `org` the key's
 * organization, `exp` not passed and at most 60 s after `iat`, `iat` not in the future (both within the clock
 * skew). Every refusal is an UnauthorizedError whose message names the reason (never the secret or the
 * expected values).
 */
export async function verifyMachineToken(
  token: string,
  options: VerifyMachineTokenOptions,
): Promise<{ organizationId: string; accessKey: string }> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new UnauthorizedError("The bearer token is not a well-formed JWT.");
  }
  if (header.alg !== "HS256") throw new UnauthorizedError("The token must be signed with HS256.");
  const kid = header.kid;
  if (typeof kid !== "string" || !accessKeyPattern.test(kid)) throw new UnauthorizedError("The token's kid is not an access key.");
  const key = await options.findKey(kid);
  if (key === undefined) throw new UnauthorizedError("The access key is unknown or revoked.");

  const now = options.now ?? new Date();
  let claims: Awaited<ReturnType<typeof jwtVerify>>["payload"];
  try {
    ({ payload: claims } = await jwtVerify(token, encoder.encode(key.secretKey), {
      algorithms: ["HS256"],
      issuer: `urn:meshes:m2m:${kid}`,
      audience: "meshes-api",
      requiredClaims: ["iat", "exp", "org"],
      clockTolerance: options.clockSkewSeconds,
      currentDate: now,
    }));
  } catch (error) {
    throw new UnauthorizedError(describeJoseError(error));
  }
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const iat = claims.iat as number;
  const exp = claims.exp as number;
  if (iat > nowSeconds + options.clockSkewSeconds) throw new UnauthorizedError("The token's iat is in the future.");
  if (exp - iat > maxTokenLifetimeSeconds) {
    throw new UnauthorizedError(`The token's lifetime (exp - iat) exceeds ${maxTokenLifetimeSeconds} seconds.`);
  }
  if (claims.org !== key.organizationId) throw new UnauthorizedError("The token's org is not the access key's organization.");
  return { organizationId: key.organizationId, accessKey: kid };
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "The token has expired.";
  if (error instanceof errors.JWTClaimValidationFailed) return `The token's ${error.claim} claim is invalid.`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "The token's signature is invalid.";
  return "The bearer token is invalid.";
}
