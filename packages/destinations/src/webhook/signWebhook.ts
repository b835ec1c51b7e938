import { createHmac } from "node:crypto";
import { standardWebhooksKey } from "./signingSecret.js";

export interface SignatureInput {
  /** `webhook-id`. */
  readonly id: string;
  /** `webhook-timestamp`: whole seconds since the epoch. */
  readonly timestamp: number;
  /** The exact bytes sent. */
  readonly body: Buffer;
  /** Every active secret, current first. */
  readonly secrets: readonly string[];
  readonly algorithm: "sha256" | "sha512";
  /** Where the body signature goes, `X-Meshes-Signature` by default. */
  readonly signatureHeader: string;
}

/**
 * The signature headers of one webhook. Standard Webhooks: `webhook-signature` holds one
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret, separated by spaces, keyed by the bytes the
 * secret encodes. The body signature header holds one lower-case hex HMAC of the body alone per secret,
 * separated by commas, keyed by the UTF-8 bytes of the whole secret as shown (`whsec_…`), as most receivers'
 * `createHmac(algorithm, secret)` does.
 */
export function signWebhook(input: SignatureInput): Record<string, string> {
  const signedContent = (key: Buffer) =>
    createHmac("sha256", key).update(`${input.id}.${input.timestamp}.`).update(input.body).digest("base64");
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(input.timestamp),
    "webhook-signature": input.secrets.map((secret) => `v1,${signedContent(standardWebhooksKey(secret))}`).join(" "),
    [input.signatureHeader]: input.secrets
      .map((secret) => createHmac(input.algorithm, Buffer.from(secret, "utf8")).update(input.body).digest("hex"))
      .join(","),
  };
}
