/** RFC 9110 `token`: what a header name may be made of. */
const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII at both ends, spaces and tabs allowed inside: nothing a receiver would trim or a proxy re-encode. */
const visibleAscii = /^[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?$/;

export const maxHeaderNameLength = 256;
export const maxHeaderValueLength = 4096;

/**
 * Names Switchyard sets itself, that describe the connection or the body (and so must match what is
 * really sent), or that carry credentials (which belong in secrets, not in metadata the API returns).
 */
const reservedNames = new Set([
  "authorization",
  "connection",
  "content-encoding",
  "content-length",
  "content-type",
  "expect",
  "host",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "user-agent",
]);
/** Standard Webhooks' headers and the event metadata headers of raw mode. */
const reservedPrefixes = ["webhook-", "x-meshes-"];

export type HeaderRole = "static" | "signature" | "custom_auth";

/**
 * Why `name` cannot be used for a header in this role, or undefined when it can. The signature header
 * may be the default `X-Meshes-Signature`; a custom auth header may be `Authorization` (its value is a secret).
 */
export function headerNameProblem(name: string, role: HeaderRole): string | undefined {
  if (name.length === 0 || name.length > maxHeaderNameLength || !token.test(name)) {
    return `must be a header name of 1 to ${maxHeaderNameLength} letters, digits or !#$%&'*+.^_\`|~-`;
  }
  const lower = name.toLowerCase();
  if (role === "signature" && lower === "x-meshes-signature") return undefined;
  if (role === "custom_auth" && lower === "authorization") return undefined;
  if (reservedNames.has(lower)) {
    return lower === "authorization"
      ? "must not be Authorization: use auth_scheme basic, bearer or custom_header"
      : `must not be ${name}, which Switchyard sets itself`;
  }
  const prefix = reservedPrefixes.find((p) => lower.startsWith(p));
  if (prefix !== undefined) return `must not start with ${prefix}, which Switchyard's own headers use`;
  return undefined;
}

/** Why `value` cannot be a header value, or undefined when it can. */
export function headerValueProblem(value: string): string | undefined {
  if (value.length > maxHeaderValueLength || !visibleAscii.test(value)) {
    return `must be 1 to ${maxHeaderValueLength} printable ASCII characters, not starting or ending with a space`;
  }
  return undefined;
}
