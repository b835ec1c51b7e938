import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const ivBytes = 12;
const tagBytes = 16;

/**
 * Encrypts secrets at rest with AES-256-GCM. Sealed form `v2.<iv>.<tag>.<ciphertext>` (base64url parts), the
 * full 16-byte tag, and the secret's `context` (where it is stored: `secretContext`) bound as associated
 * data, so that a sealed secret copied into another row, or another column, no longer opens.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  /** Throws unless `sealed` was sealed by this key for this `context`, untouched. */
  open(sealed: string, context: string): string;
  /**
   * Opens the first form, `v1.<iv>.<tag>.<ciphertext>` (sealed with no context), so that it can be sealed
   * again in the current one: the server does so for every stored secret when it starts. `open` refuses it.
   */
  openLegacy(sealed: string): string;
}

/** Where each kind of secret is stored, as the context it is sealed for. */
export const secretContext = {
  accessKey: (accessKey: string) => `access_keys.secret_ciphertext:${accessKey}`,
  connection: (connectionId: string) => `connections.secrets_ciphertext:${connectionId}`,
} as const;

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error("The encryption key must be 32 bytes");
  const decrypt = (sealed: string, version: "v1" | "v2", context: string | undefined) => {
    const parts = sealed.split(".");
    if (parts.length !== 4 || parts[0] !== version) throw new Error("Unrecognized sealed secret");
    const [iv, tag, ciphertext] = parts.slice(1).map((part) => Buffer.from(part, "base64url")) as [Buffer, Buffer, Buffer];
    // A shorter tag would be checked only as far as it goes: 4 bytes are forged in 2^32 tries.
    if (iv.length !== ivBytes || tag.length !== tagBytes) throw new Error("Unrecognized sealed secret");
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: tagBytes });
    if (context !== undefined) decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
  };
  return {
    seal(plaintext, context) {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: tagBytes });
      cipher.setAAD(Buffer.from(context, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return ["v2", ...[iv, cipher.getAuthTag(), ciphertext].map((p) => p.toString("base64url"))].join(".");
    },
    open: (sealed, context) => decrypt(sealed, "v2", context),
    openLegacy: (sealed) => decrypt(sealed, "v1", undefined),
  };
}
