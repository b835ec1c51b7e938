/** The longest address accepted (RFC 5321: 64 for the local part, 255 for the domain, and the `@`). */
export const maxEmailAddressLength = 320;

/** Longest `from` a rule may set: a display name and an address, `Name <address>`. */
export const maxSenderLength = 512;

/**
 * A plain address with a dotted domain (`ada@example.com`): what both providers accept as a recipient and as a
 * sender. Deliberately simple; the provider has the last word, and says so in a validation error.
 */
const address = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/;

export function isEmailAddress(value: unknown): value is string {
  return typeof value === "string" && value.length <= maxEmailAddressLength && address.test(value);
}

/** A sender as both providers take it: the address, and the display name when the rule gave one. */
export interface Sender {
  readonly email: string;
  readonly name?: string;
}

/** `ada@example.com` or `Ada Lovelace <ada@example.com>`; undefined when `text` is neither. */
export function parseSender(text: string): Sender | undefined {
  const trimmed = text.trim();
  if (trimmed.length > maxSenderLength) return undefined;
  if (isEmailAddress(trimmed)) return { email: trimmed };
  const named = /^(.*?)\s*<([^<>]+)>$/.exec(trimmed);
  if (named === null) return undefined;
  const name = (named[1] ?? "").trim().replace(/^"(.*)"$/, "$1");
  const email = (named[2] ?? "").trim();
  if (!isEmailAddress(email) || /[\r\n<>]/.test(name)) return undefined;
  return name === "" ? { email } : { email, name };
}

/**
 * The recipient of an email action: the mapping's `email`, else the payload's own `email`. Undefined when neither
 * is an address (the attempt is then a mapping error naming the field, never its value).
 */
export function recipientOf(mapped: Readonly<Record<string, unknown>>, payload: Readonly<Record<string, unknown>>): string | undefined {
  const candidate = mapped.email ?? payload.email;
  if (typeof candidate !== "string") return undefined;
  const trimmed = candidate.trim();
  return isEmailAddress(trimmed) ? trimmed : undefined;
}
