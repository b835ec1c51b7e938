import { randomBytes } from "node:crypto";
import type { WebhookSecrets } from "./webhookConfig.js";

const prefix = "whsec_";
const generatedBytes = 32;
const minBytes = 24;
const maxBytes = 64;

/** How long a replaced signing secret keeps signing after `rotateSigningSecret`, unless told otherwise: 24 hours. */
export const defaultSigningSecretGraceMs = 24 * 60 * 60 * 1000;

/** A new secret in the Standard Webhooks format: `whsec_` and the base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return `${prefix}${randomBytes(generatedBytes).toString("base64")}`;
}

/** Why `value` is not a usable signing secret, or undefined when it is. */
export function signingSecretProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || !value.startsWith(prefix)) return `must be a string starting with ${prefix}`;
  const encoded = value.slice(prefix.length);
  const bytes = Buffer.from(encoded, "base64");
  // Node's decoder skips what is not base64; re-encoding tells a canonical value from one it tolerated.
  if (bytes.toString("base64") !== encoded) return `must be ${prefix} followed by standard base64 with padding`;
  if (bytes.length < minBytes || bytes.length > maxBytes) return `must encode ${minBytes} to ${maxBytes} bytes (got ${bytes.length})`;
  return undefined;
}

/** The HMAC key of Standard Webhooks' `webhook-signature`: the bytes the part after `whsec_` encodes. */
export function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.slice(prefix.length), "base64");
}

/**
 * Makes a new current signing secret and keeps the old one for `graceMs` (until `now + graceMs`), during
 * which every webhook is signed with both, so receivers can switch secrets without losing a delivery.
 * A secret still in an earlier grace period is dropped: at most two secrets sign at once. A `graceMs` of
 * 0 retires the old secret at once.
 */
export function rotateSigningSecret(secrets: WebhookSecrets, now: Date, graceMs: number = defaultSigningSecretGraceMs): WebhookSecrets {
  if (!Number.isFinite(graceMs) || graceMs < 0)
    throw new RangeError(`graceMs must be a finite number of milliseconds ≥ 0 (got ${graceMs})`);
  const { previous_signing_secret: _retired, ...rest } = secrets;
  const next = { ...rest, signing_secret: generateSigningSecret() };
  if (graceMs === 0) return next;
  return {
    ...next,
    previous_signing_secret: { secret: secrets.signing_secret, expires_at: new Date(now.getTime() + graceMs).toISOString() },
  };
}

/** The secrets that sign a webhook sent at `now`: the current one, then the previous one while its grace period lasts. */
export function activeSigningSecrets(secrets: WebhookSecrets, now: Date): string[] {
  const previous = secrets.previous_signing_secret;
  const stillValid = previous !== undefined && Date.parse(previous.expires_at) > now.getTime();
  return stillValid ? [secrets.signing_secret, previous.secret] : [secrets.signing_secret];
}
