import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** The only shape of publishable key the official Meshes SDKs accept (`mesh_pub_<workspace>_<key id>_<secret>`). */
export const publishableKeyPattern = /^mesh_pub_([A-Za-z0-9\-.]+)_([A-Za-z0-9\-.]+)_([^_]+)$/;
export const accessKeyPattern = /^mk_[A-Za-z0-9_-]{22,}$/;

export interface NewPublishableKey {
  readonly id: string;
  /** The full key, shown once. */
  readonly key: string;
  /** `mesh_pub_<workspace>_<key id>`: identifies the key, cannot authenticate. */
  readonly publicKey: string;
  readonly hash: Buffer;
}

export function generatePublishableKey(workspaceId: string): NewPublishableKey {
  const id = randomBytes(9).toString("base64url").replace(/[_-]/g, "x");
  const publicKey = `mesh_pub_${workspaceId}_${id}`;
  const key = `${publicKey}_${randomBytes(24).toString("hex")}`;
  return { id, key, publicKey, hash: hashPublishableKey(key) };
}

export function publicPartOf(workspaceId: string, keyId: string): string {
  return `mesh_pub_${workspaceId}_${keyId}`;
}

export function parsePublishableKey(key: string): { workspaceId: string; keyId: string } | undefined {
  const match = publishableKeyPattern.exec(key);
  if (!match) return undefined;
  return { workspaceId: match[1] as string, keyId: match[2] as string };
}

export function hashPublishableKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

export function publishableKeyMatches(key: string, storedHash: Buffer): boolean {
  const hash = hashPublishableKey(key);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}

/** A new access key (`mk_` + 24 characters) and its secret (43 base64url characters, 256 bits). */
export function generateAccessKey(): { accessKey: string; secretKey: string } {
  return { accessKey: `mk_${randomBytes(18).toString("base64url")}`, secretKey: randomBytes(32).toString("base64url") };
}
