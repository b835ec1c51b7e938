import type { ConfigError, ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import type { JsonSchema } from "../integrationDescription.js";
import type { OAuthSecrets } from "./oauthProvider.js";

/** What an OAuth connection's secrets may hold besides the standard token fields, with how each is checked. */
export interface OAuthSecretExtra {
  readonly description: string;
  /** Why the value cannot be used, or undefined when it can. */
  problem(value: string): string | undefined;
  /** How the value is stored (default: as sent). */
  normalize?(value: string): string;
}

export interface OAuthConnectionSpec<M> {
  /** The provider's extras (Salesforce's `instance_url`), by secret key. */
  readonly extraSecrets?: Readonly<Record<string, OAuthSecretExtra>>;
  /** The connection's metadata: every key is checked here; a problem goes to `fail`, an undefined answer means one was reported. */
  parseMetadata(metadata: Readonly<Record<string, unknown>>, fail: (param: string, msg: string) => void): M | undefined;
}

/** Tokens are sent in an Authorization header: visible ASCII only, so a value can never split the header. */
const tokenPattern = /^[\x21-\x7e]+$/;
const maxTokenLength = 8192;
const standardSecrets = ["access_token", "refresh_token", "expires_at", "token_type", "scope"] as const;

/**
 * Validates an OAuth connection's config: the tokens the OAuth callback (or a caller holding an access token) sends,
 * the provider's extras, and the metadata the grant showed. On update, secrets not sent keep their previous value
 * (a client cannot read them back); `access_token` is required once, on create. Unknown keys are refused.
 */
export function parseOAuthConnectionConfig<M>(
  input: ParseConfigInput<M, OAuthSecrets>,
  spec: OAuthConnectionSpec<M>,
): ParseConfigResult<M, OAuthSecrets> {
  const errors: ConfigError[] = [];
  const fail = (param: string, msg: string) => {
    errors.push({ param, msg });
  };
  const metadataInput = input.metadata ?? {};
  if (!isPlainObject(metadataInput)) return { ok: false, errors: [{ param: "metadata", msg: "must be an object" }] };
  const metadata = spec.parseMetadata(metadataInput, fail);
  const secrets = parseSecrets(input.secrets, input.previous?.secrets, spec.extraSecrets ?? {}, fail);
  if (errors.length > 0 || metadata === undefined || secrets === undefined) return { ok: false, errors };
  return { ok: true, metadata, secrets };
}

function parseSecrets(
  sent: unknown,
  previous: OAuthSecrets | undefined,
  extras: Readonly<Record<string, OAuthSecretExtra>>,
  fail: (param: string, msg: string) => void,
): OAuthSecrets | undefined {
  if (sent !== undefined && !isPlainObject(sent)) {
    fail("secrets", "must be an object");
    return undefined;
  }
  const given = sent ?? {};
  const known = [...standardSecrets, ...Object.keys(extras)];
  for (const key of Object.keys(given)) if (!known.includes(key)) fail(`secrets.${key}`, "is not a known property");
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries(previous ?? {})) if (value !== undefined) merged[key] = value;
  for (const key of known) {
    const value = given[key];
    if (value === undefined) continue;
    const checked = checkSecret(key, value, extras[key]);
    if (typeof checked === "object") fail(`secrets.${key}`, checked.problem);
    else merged[key] = checked;
  }
  if (merged.access_token === undefined) {
    fail("secrets.access_token", "is required");
    return undefined;
  }
  return merged as OAuthSecrets;
}

/** The value to store, or why it cannot be. */
function checkSecret(key: string, value: unknown, extra: OAuthSecretExtra | undefined): string | { problem: string } {
  if (typeof value !== "string" || value === "") return { problem: "must be a non-empty string" };
  if (extra !== undefined) {
    const problem = extra.problem(value);
    return problem === undefined ? (extra.normalize?.(value) ?? value) : { problem };
  }
  if (key === "expires_at") {
    const time = Date.parse(value);
    return Number.isNaN(time) ? { problem: "must be an ISO 8601 date-time" } : new Date(time).toISOString();
  }
  if (value.length > maxTokenLength) return { problem: `must be at most ${maxTokenLength} characters` };
  if ((key === "access_token" || key === "refresh_token" || key === "token_type") && !tokenPattern.test(value))
    return { problem: "must be visible ASCII characters without spaces" };
  return value;
}

/** The JSON Schema of an OAuth connection's secrets, with the provider's extras. */
export function oauthSecretsSchema(extras: Readonly<Record<string, OAuthSecretExtra>> = {}): JsonSchema {
  const token = { type: "string", minLength: 1, maxLength: maxTokenLength, pattern: "^[\\x21-\\x7e]+$", writeOnly: true };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    required: ["access_token"],
    properties: {
      access_token: { ...token, description: "Sent as `Authorization: Bearer`. Set by the OAuth callback, or by a caller that holds one." },
      refresh_token: { ...token, description: "Used by the worker to refresh the access token." },
      expires_at: { type: "string", format: "date-time", writeOnly: true, description: "When the access token expires." },
      token_type: { type: "string", minLength: 1, maxLength: 64, writeOnly: true },
      scope: { type: "string", minLength: 1, maxLength: maxTokenLength, writeOnly: true, description: "The scopes granted." },
      ...Object.fromEntries(
        Object.entries(extras).map(([key, extra]) => [
          key,
          { type: "string", minLength: 1, writeOnly: true, description: extra.description },
        ]),
      ),
    },
  };
}

/** The secret paths of an OAuth connection, for `secret_fields`. */
export function oauthSecretFields(extras: Readonly<Record<string, OAuthSecretExtra>> = {}): string[] {
  return [...standardSecrets, ...Object.keys(extras)].map((key) => `secrets.${key}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
