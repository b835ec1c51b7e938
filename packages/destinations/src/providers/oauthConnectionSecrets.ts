import type { ConfigError } from "../destinationPlugin.js";
import type { IntegrationDescription, JsonSchema } from "../integrationDescription.js";
import { isPlainObject } from "./isPlainObject.js";
import type { OAuthSecrets } from "./oauthProvider.js";
import { parseTextFields, type TextFieldRule } from "./textFields.js";

/** What an OAuth connection's secrets may hold besides the standard token fields, with how each is checked. */
export interface OAuthSecretExtra {
  readonly description: string;
  /** Why the value cannot be used, or undefined when it can. */
  problem(value: string): string | undefined;
  /** How the value is stored (default: as sent). */
  normalize?(value: string): string;
}

export interface OAuthSecretsOptions {
  /**
   * Whether the connection keeps `refresh_token` and `expires_at`, so that the worker refreshes its access token.
   * A plugin that never sends the access token after the grant (Discord posts with the operator's bot token)
   * drops them: a token nobody uses is not refreshed, and its refresh failing cannot mark the connection failed.
   */
  readonly refreshable: boolean;
  /** The provider's extras (Salesforce's `instance_url`), by secret key. Default: none. */
  readonly extras?: Readonly<Record<string, OAuthSecretExtra>>;
}

export type ParsedOAuthSecrets =
  | { readonly ok: true; readonly secrets: OAuthSecrets }
  | { readonly ok: false; readonly errors: ConfigError[] };

const maxTokenLength = 8192;
const tokenPattern = "^[\\x21-\\x7e]+$";

/** Tokens are sent in an `Authorization` header: visible ASCII only, so a value can never split the header. */
const tokenRule: TextFieldRule = {
  maxLength: maxTokenLength,
  pattern: new RegExp(tokenPattern),
  patternMessage: "must be visible ASCII characters, without spaces",
};

const standardRules: Readonly<Record<string, TextFieldRule>> = {
  access_token: tokenRule,
  refresh_token: tokenRule,
  expires_at: {
    maxLength: 64,
    pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
    patternMessage: "must be an ISO 8601 date-time",
  },
  token_type: { maxLength: 64 },
  scope: { maxLength: maxTokenLength },
};

/** The secrets that describe the access token they came with: a new access token does not keep the previous ones. */
const describeTheToken = ["expires_at", "token_type", "scope"];

/**
 * The secrets of an OAuth connection, from the OAuth callback (the token answer) or from a caller who has an access
 * token. Unknown keys are refused; empty strings and nulls count as absent. On update, secrets not sent keep their
 * values (a client cannot read them back), except that a new `access_token` brings its own `expires_at`,
 * `token_type` and `scope`; the refresh token and the provider's extras are kept unless new ones are sent.
 */
export function parseOAuthSecrets(sent: unknown, previous: unknown, options: OAuthSecretsOptions): ParsedOAuthSecrets {
  const extras = options.extras ?? {};
  const rules = { ...standardRules, ...Object.fromEntries(Object.keys(extras).map((key) => [key, { maxLength: maxTokenLength }])) };
  const parsed = parseTextFields(sent, "secrets", rules);
  if (!parsed.ok) return parsed;
  const now = checkedSecrets(parsed.values, extras);
  if (!now.ok) return now;
  const merged = { ...keptSecrets(previous, rules, now.values.access_token !== undefined), ...now.values };
  if (merged.access_token === undefined) return { ok: false, errors: [{ param: "secrets.access_token", msg: "is required" }] };
  if (!options.refreshable) {
    delete merged.refresh_token;
    delete merged.expires_at;
  }
  return { ok: true, secrets: merged as OAuthSecrets };
}

/** The values sent, with `expires_at` and the provider's extras checked and stored in their normal form. */
function checkedSecrets(
  sent: Readonly<Record<string, string>>,
  extras: Readonly<Record<string, OAuthSecretExtra>>,
): { ok: true; values: Record<string, string> } | { ok: false; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const values = { ...sent };
  if (values.expires_at !== undefined) {
    const at = new Date(values.expires_at);
    if (Number.isNaN(at.getTime())) errors.push({ param: "secrets.expires_at", msg: "is not a valid date-time" });
    else values.expires_at = at.toISOString();
  }
  for (const [key, extra] of Object.entries(extras)) {
    const value = values[key];
    if (value === undefined) continue;
    const problem = extra.problem(value);
    if (problem !== undefined) errors.push({ param: `secrets.${key}`, msg: problem });
    else values[key] = extra.normalize?.(value) ?? value;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}

/** What an update keeps of the stored secrets (checked when they were stored). */
function keptSecrets(previous: unknown, rules: Readonly<Record<string, TextFieldRule>>, newAccessToken: boolean): Record<string, string> {
  if (!isPlainObject(previous)) return {};
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(previous)) {
    if (typeof value !== "string" || rules[key] === undefined) continue;
    if (!(newAccessToken && describeTheToken.includes(key))) kept[key] = value;
  }
  return kept;
}

/** The JSON Schema of an OAuth connection's secrets (options as in `parseOAuthSecrets`). */
export function oauthSecretsSchema(options: OAuthSecretsOptions): JsonSchema {
  const token = (description: string) => ({
    type: "string",
    minLength: 1,
    maxLength: maxTokenLength,
    pattern: tokenPattern,
    writeOnly: true,
    description,
  });
  const dropped = options.refreshable ? "" : " Accepted and not kept: this integration never sends the user's token after the grant.";
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    required: ["access_token"],
    properties: {
      access_token: token("The access token the OAuth grant gave (set by the OAuth callback, or by a caller that holds one)."),
      refresh_token: token(
        options.refreshable
          ? "The refresh token, when the provider gives one: the worker refreshes the access token with it."
          : `The refresh token, when the provider gives one.${dropped}`,
      ),
      expires_at: {
        type: "string",
        format: "date-time",
        writeOnly: true,
        description: `When the access token expires; absent when it does not.${dropped}`,
      },
      token_type: { type: "string", minLength: 1, maxLength: 64, writeOnly: true },
      scope: {
        type: "string",
        minLength: 1,
        maxLength: maxTokenLength,
        writeOnly: true,
        description: "The scopes granted, as the provider wrote them.",
      },
      ...Object.fromEntries(
        Object.entries(options.extras ?? {}).map(([key, extra]) => [
          key,
          { type: "string", minLength: 1, maxLength: maxTokenLength, writeOnly: true, description: extra.description },
        ]),
      ),
    },
  };
}

/** The secret paths of an OAuth connection, for `secret_fields`: every key of its secrets schema. */
function oauthSecretFields(options: OAuthSecretsOptions): string[] {
  return [...Object.keys(standardRules), ...Object.keys(options.extras ?? {})].map((key) => `secrets.${key}`);
}

/** The secrets half of an OAuth integration's description: its schema, and every key of it named in `secret_fields`. */
export function oauthSecretsDescription(options: OAuthSecretsOptions): Pick<IntegrationDescription, "secrets_schema" | "secret_fields"> {
  return { secrets_schema: oauthSecretsSchema(options), secret_fields: oauthSecretFields(options) };
}
