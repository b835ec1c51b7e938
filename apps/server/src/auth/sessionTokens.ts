import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** The prefix of a session's access token: tells it from a machine JWT in the same `Authorization: Bearer` header. */
export const accessTokenPrefix = "sy_sess_";
/** The prefix of a session's launch token, which only the launch exchange accepts. */
export const launchTokenPrefix = "sy_launch_";

/** A prefix and 43 base64url characters (256 random bits); nothing else is a session token. */
const tokenBody = "[A-Za-z0-9_-]{43}";
const accessTokenPattern = new RegExp(`^${accessTokenPrefix}${tokenBody}$`);
const launchTokenPattern = new RegExp(`^${launchTokenPrefix}${tokenBody}$`);

/** A token shown once, and the SHA-256 hash that is all the database keeps of it. */
export interface NewToken {
  readonly token: string;
  readonly hash: Buffer;
}

export function generateAccessToken(): NewToken {
  return generate(accessTokenPrefix);
}

export function generateLaunchToken(): NewToken {
  return generate(launchTokenPrefix);
}

/**
 * The hash a token is looked up by, or undefined when `token` does not have the shape of its kind (then there
 * is nothing to look up). SHA-256 without salt is enough: the tokens are random, 256 bits, never chosen.
 */
export function tokenHashOf(token: string, kind: "access" | "launch"): Buffer | undefined {
  const pattern = kind === "access" ? accessTokenPattern : launchTokenPattern;
  return pattern.test(token) ? sha256(token) : undefined;
}

/** Compares the hash of a presented token with the stored one in constant time. */
export function tokenHashMatches(presented: Buffer, stored: Buffer): boolean {
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

function generate(prefix: string): NewToken {
  const token = `${prefix}${randomBytes(32).toString("base64url")}`;
  return { token, hash: sha256(token) };
}

function sha256(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
