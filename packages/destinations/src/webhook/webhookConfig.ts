import { isIP } from "node:net";
import { type AddressPolicy, describeRefusal, normalizeHostname } from "../addressPolicy.js";
import { connectPort } from "../connectPort.js";
import type { ConfigError, ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import { isPlainObject } from "../providers/isPlainObject.js";
import { headerNameProblem, headerValueProblem } from "./headerRules.js";
import { generateSigningSecret, signingSecretProblem } from "./signingSecret.js";

export const httpMethods = ["POST", "PUT", "PATCH"] as const;
export const payloadModes = ["wrapped", "raw"] as const;
export const authSchemes = ["none", "basic", "bearer", "custom_header"] as const;
export const signatureAlgorithms = ["sha256", "sha512"] as const;

/** A webhook connection's `metadata`: returned by the API as it is. */
export interface WebhookMetadata {
  /** http or https, without userinfo or fragment; stored normalized (WHATWG URL serialization). */
  readonly url: string;
  /** Default "POST". */
  readonly http_method: (typeof httpMethods)[number];
  /** Default "wrapped": the event in an envelope; "raw" sends the payload alone, the event in X-Meshes-* headers. */
  readonly payload_mode: (typeof payloadModes)[number];
  /** Default "none". */
  readonly auth_scheme: (typeof authSchemes)[number];
  /** Up to `maxStaticHeaders` static headers, name → value. Default {}. */
  readonly headers: Readonly<Record<string, string>>;
  /** Where the body's HMAC goes. Default "X-Meshes-Signature". */
  readonly signature_header: string;
  /** The HMAC of `signature_header`; Standard Webhooks' `webhook-signature` is always SHA-256. Default "sha256". */
  readonly signature_algorithm: (typeof signatureAlgorithms)[number];
}

/** A webhook connection's `secrets`: stored encrypted, never returned. Only the active auth scheme's fields are kept. */
export interface WebhookSecrets {
  /** The current signing secret, `whsec_<base64 of 24 to 64 bytes>`. */
  readonly signing_secret: string;
  /** The secret `rotateSigningSecret` replaced; it signs too until `expires_at` (ISO 8601). */
  readonly previous_signing_secret?: { readonly secret: string; readonly expires_at: string };
  /** auth_scheme "basic". */
  readonly username?: string;
  readonly password?: string;
  /** auth_scheme "bearer". */
  readonly token?: string;
  /** auth_scheme "custom_header". */
  readonly header_name?: string;
  readonly header_value?: string;
}

export const defaultSignatureHeader = "X-Meshes-Signature";
export const maxStaticHeaders = 5;
export const maxUrlLength = 2048;
const maxUsernameLength = 256;
const maxCredentialLength = 4096;

const metadataFields = ["url", "http_method", "payload_mode", "auth_scheme", "headers", "signature_header", "signature_algorithm"];
/** The secrets each auth scheme needs. */
export const authSecretFields = {
  none: [],
  basic: ["username", "password"],
  bearer: ["token"],
  custom_header: ["header_name", "header_value"],
} as const satisfies Record<WebhookMetadata["auth_scheme"], readonly string[]>;
type AuthField = (typeof authSecretFields)[keyof typeof authSecretFields][number];
const authFields: readonly AuthField[] = ["username", "password", "token", "header_name", "header_value"];
const secretInputFields: readonly string[] = [...authFields, "signing_secret"];

type Fail = (param: string, msg: string) => void;

/** Metadata as parsed: a field is undefined when it was invalid (and `fail` was told why). */
interface ParsedMetadata {
  readonly url: string | undefined;
  readonly http_method: WebhookMetadata["http_method"] | undefined;
  readonly payload_mode: WebhookMetadata["payload_mode"] | undefined;
  readonly auth_scheme: WebhookMetadata["auth_scheme"] | undefined;
  readonly headers: WebhookMetadata["headers"];
  readonly signature_header: string;
  readonly signature_algorithm: WebhookMetadata["signature_algorithm"] | undefined;
}

/**
 * Validates and normalizes a webhook connection's config, reporting every invalid field at once.
 * On create, a signing secret is generated unless one is sent (the API shows `secrets.signing_secret`
 * once). On update, secrets not sent keep their previous value, so a client can change the URL without
 * resending credentials it cannot read back; a signing secret sent replaces the current one outright
 * (`rotateSigningSecret` is the way to replace it with a grace period).
 */
export function parseWebhookConfig(
  input: ParseConfigInput<WebhookMetadata, WebhookSecrets>,
  policy: AddressPolicy,
): ParseConfigResult<WebhookMetadata, WebhookSecrets> {
  const errors: ConfigError[] = [];
  const fail: Fail = (param, msg) => {
    errors.push({ param, msg });
  };

  if (!isPlainObject(input.metadata)) return { ok: false, errors: [{ param: "metadata", msg: "must be an object" }] };
  const parsed = parseMetadata(input.metadata, policy, fail);
  const secretsSent = parseSecretsSent(input.secrets, fail);
  const previous = input.previous?.secrets;
  const auth = parsed.auth_scheme === undefined ? {} : parseAuthSecrets(parsed.auth_scheme, secretsSent, previous, parsed, fail);
  const signing = parseSigningSecrets(secretsSent, previous, fail);

  // Every undefined value came with an error; the comparisons are for the compiler.
  const metadata = completeMetadata(parsed);
  if (errors.length > 0 || metadata === undefined || signing === undefined) return { ok: false, errors };
  return { ok: true, metadata, secrets: { ...signing, ...auth } };
}

/** Every metadata field, each taking its default when absent; the errors, in field order, go to `fail`. */
function parseMetadata(metadata: Record<string, unknown>, policy: AddressPolicy, fail: Fail): ParsedMetadata {
  refuseUnknownKeys(metadata, metadataFields, "metadata", fail);
  const parsedUrl = parseUrl(metadata.url, policy);
  if ("problem" in parsedUrl) fail("metadata.url", parsedUrl.problem);
  const url = "url" in parsedUrl ? parsedUrl.url : undefined;
  const http_method = oneOf(metadata, "http_method", httpMethods, "POST", fail);
  const payload_mode = oneOf(metadata, "payload_mode", payloadModes, "wrapped", fail);
  const auth_scheme = oneOf(metadata, "auth_scheme", authSchemes, "none", fail);
  const signature_algorithm = oneOf(metadata, "signature_algorithm", signatureAlgorithms, "sha256", fail);
  const signature_header = parseSignatureHeader(metadata.signature_header, fail);
  const headers = parseStaticHeaders(metadata.headers, signature_header, fail);
  return { url, http_method, payload_mode, auth_scheme, headers, signature_header, signature_algorithm };
}

/** The metadata to store, or undefined when a field was invalid. */
function completeMetadata(parsed: ParsedMetadata): WebhookMetadata | undefined {
  const { url, http_method, payload_mode, auth_scheme, headers, signature_header, signature_algorithm } = parsed;
  const complete = url !== undefined && http_method !== undefined && payload_mode !== undefined && auth_scheme !== undefined;
  if (!complete || signature_algorithm === undefined) return undefined;
  return { url, http_method, payload_mode, auth_scheme, headers, signature_header, signature_algorithm };
}

function refuseUnknownKeys(object: Record<string, unknown>, known: readonly string[], prefix: string, fail: Fail): void {
  for (const key of Object.keys(object)) if (!known.includes(key)) fail(`${prefix}.${key}`, "is not a known property");
}

/** `metadata.signature_header`, or the default when it is absent or invalid. */
function parseSignatureHeader(value: unknown, fail: Fail): string {
  if (value === undefined) return defaultSignatureHeader;
  if (typeof value !== "string") {
    fail("metadata.signature_header", "must be a string");
    return defaultSignatureHeader;
  }
  const problem = headerNameProblem(value, "signature");
  if (problem === undefined) return value;
  fail("metadata.signature_header", problem);
  return defaultSignatureHeader;
}

/** The secrets the client sent (none when absent; none, with an error, when not an object). */
function parseSecretsSent(value: unknown, fail: Fail): Record<string, unknown> {
  const secretsInput = value ?? {};
  if (!isPlainObject(secretsInput)) {
    fail("secrets", "must be an object");
    return {};
  }
  refuseUnknownKeys(secretsInput, secretInputFields, "secrets", fail);
  return secretsInput;
}

/**
 * The credentials `scheme` needs, each sent or kept from `previous`. Credentials another scheme uses are
 * refused, and so is a custom auth header named like the signature header or a static header.
 */
function parseAuthSecrets(
  scheme: WebhookMetadata["auth_scheme"],
  sent: Record<string, unknown>,
  previous: WebhookSecrets | undefined,
  metadata: Pick<ParsedMetadata, "headers" | "signature_header">,
  fail: Fail,
): Partial<Record<AuthField, string>> {
  const wanted: readonly AuthField[] = authSecretFields[scheme];
  for (const field of authFields) {
    if (sent[field] !== undefined && !wanted.includes(field)) fail(`secrets.${field}`, `is not used by auth_scheme ${scheme}`);
  }
  const auth: Partial<Record<AuthField, string>> = {};
  for (const field of wanted) {
    const value = sent[field] ?? previous?.[field];
    const problem = value === undefined ? `is required when auth_scheme is ${scheme}` : credentialProblem(field, value);
    if (problem === undefined) auth[field] = value as string;
    else fail(`secrets.${field}`, problem);
  }
  if (auth.header_name !== undefined) checkAuthHeaderName(auth.header_name, metadata, fail);
  return auth;
}

function checkAuthHeaderName(headerName: string, metadata: Pick<ParsedMetadata, "headers" | "signature_header">, fail: Fail): void {
  const lower = headerName.toLowerCase();
  if (lower === metadata.signature_header.toLowerCase()) fail("secrets.header_name", "must differ from metadata.signature_header");
  if (Object.keys(metadata.headers).some((name) => name.toLowerCase() === lower))
    fail("secrets.header_name", "must differ from every name in metadata.headers");
}

/** The signing secret sent, else the stored one (with the secret it replaced), else a new one on create. */
function parseSigningSecrets(
  sent: Record<string, unknown>,
  previous: WebhookSecrets | undefined,
  fail: Fail,
): Pick<WebhookSecrets, "signing_secret" | "previous_signing_secret"> | undefined {
  if (sent.signing_secret !== undefined) {
    const problem = signingSecretProblem(sent.signing_secret);
    if (problem === undefined) return { signing_secret: sent.signing_secret as string };
    fail("secrets.signing_secret", problem);
    return undefined;
  }
  if (previous === undefined) return { signing_secret: generateSigningSecret() };
  const { signing_secret, previous_signing_secret } = previous;
  return previous_signing_secret === undefined ? { signing_secret } : { signing_secret, previous_signing_secret };
}

function parseUrl(value: unknown, policy: AddressPolicy): { readonly url: string } | { readonly problem: string } {
  if (value === undefined) return { problem: "is required" };
  if (typeof value !== "string") return { problem: "must be a string" };
  if (value.length > maxUrlLength) return { problem: `must be at most ${maxUrlLength} characters` };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: "must be an absolute http or https URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { problem: "must use http or https" };
  if (url.username !== "" || url.password !== "") return { problem: "must not contain a user name or password: use auth_scheme basic" };
  if (url.hash !== "") return { problem: "must not contain a fragment (#…), which is never sent" };
  // An early, clear refusal of what is obviously internal; the connect-time check is the real guard.
  const hostname = normalizeHostname(url.hostname);
  const port = connectPort(url);
  const allowed = policy.allowsHostname(hostname, port);
  const literal = isIP(hostname) !== 0;
  if (literal && policy.neverReachable(hostname, port))
    return { problem: `must not point at ${hostname}:${port}, which is Switchyard's own` };
  if (!allowed) {
    if (literal) {
      const verdict = policy.checkAddress(hostname, port);
      if (!verdict.allowed)
        return {
          problem: `must not point at ${hostname}:${port}: ${describeRefusal(verdict)}, which the destination allow-list does not name for that port`,
        };
    } else if ((hostname === "localhost" || hostname.endsWith(".localhost")) && !policy.checkAddress("127.0.0.1", port).allowed) {
      return { problem: "must not point at localhost unless the destination allow-list names it (for that port)" };
    }
  }
  return { url: url.href };
}

function oneOf<T extends string>(
  metadata: Record<string, unknown>,
  field: string,
  allowed: readonly T[],
  fallback: T,
  fail: Fail,
): T | undefined {
  const value = metadata[field];
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  fail(`metadata.${field}`, `must be one of ${allowed.join(", ")}`);
  return undefined;
}

function parseStaticHeaders(value: unknown, signatureHeader: string, fail: Fail): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    fail("metadata.headers", "must be an object of header names to string values");
    return {};
  }
  const entries = Object.entries(value);
  if (entries.length > maxStaticHeaders) fail("metadata.headers", `must have at most ${maxStaticHeaders} headers (got ${entries.length})`);
  // Without a prototype: a header named `__proto__` (a valid token) is then a header like any other, not a
  // write to the object's prototype that would drop it silently.
  const headers: Record<string, string> = Object.create(null);
  const seen = new Set<string>();
  for (const [name, headerValue] of entries) {
    const param = `metadata.headers.${name}`;
    const nameProblem = headerNameProblem(name, "static");
    const lower = name.toLowerCase();
    if (nameProblem !== undefined) fail(param, nameProblem);
    else if (lower === signatureHeader.toLowerCase()) fail(param, "must differ from metadata.signature_header");
    else if (seen.has(lower)) fail(param, "repeats a header name (names are case-insensitive)");
    else if (typeof headerValue !== "string") fail(param, "must be a string");
    else {
      const valueProblem = headerValueProblem(headerValue);
      if (valueProblem !== undefined) fail(param, valueProblem);
      else headers[name] = headerValue;
    }
    seen.add(lower);
  }
  return headers;
}

function credentialProblem(field: AuthField, value: unknown): string | undefined {
  if (typeof value !== "string") return "must be a string";
  switch (field) {
    case "username":
      if (value.length === 0 || value.length > maxUsernameLength) return `must be 1 to ${maxUsernameLength} characters`;
      return /[:\p{Cc}]/u.test(value) ? "must not contain a colon or control characters" : undefined;
    case "password":
      if (value.length > maxCredentialLength) return `must be at most ${maxCredentialLength} characters`;
      return /\p{Cc}/u.test(value) ? "must not contain control characters" : undefined;
    case "token":
      if (value.length === 0 || value.length > maxCredentialLength) return `must be 1 to ${maxCredentialLength} characters`;
      return /^[\x21-\x7e]+$/.test(value) ? undefined : "must be printable ASCII without spaces";
    case "header_name":
      return headerNameProblem(value, "custom_auth");
    case "header_value":
      return headerValueProblem(value);
  }
}
