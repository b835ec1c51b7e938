import type { ConfigError } from "../destinationPlugin.js";
import type { JsonSchema } from "../integrationDescription.js";
import type { OAuthSecrets } from "./oauthProvider.js";
import { parseTextFields, type TextFieldRule } from "./textFields.js";

/** Visible ASCII without spaces: what can travel in an `Authorization` header. */
const tokenRule: TextFieldRule = {
  maxLength: 4096,
  pattern: /^[\x21-\x7e]+$/,
  patternMessage: "must be visible ASCII characters, without spaces",
};

const secretRules: Readonly<Record<string, TextFieldRule>> = {
  access_token: tokenRule,
  refresh_token: tokenRule,
  expires_at: {
    maxLength: 64,
    pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
    patternMessage: "must be an ISO 8601 date-time",
  },
  token_type: { maxLength: 64 },
  scope: { maxLength: 4096 },
};

export interface OAuthSecretsOptions {
  /**
   * Whether the connection keeps `refresh_token` and `expires_at`, so that the worker refreshes its access token.
   * A plugin that never sends the access token after the grant (Discord posts with the operator's bot token)
   * drops them: a token nobody uses is not refreshed, and its refresh failing cannot mark the connection failed.
   */
  readonly refreshable: boolean;
}

export type ParsedOAuthSecrets =
  | { readonly ok: true; readonly secrets: OAuthSecrets }
  | { readonly ok: false; readonly errors: ConfigError[] };

/**
 * The secrets of an OAuth connection, from the OAuth callback (the token answer) or from a caller who has an access
 * token. On update, secrets not sent keep their values; a new `access_token` brings its own `expires_at`,
 * `token_type` and `scope` (the previous ones described the previous token) and keeps the refresh token unless a
 * new one is sent.
 */
export function parseOAuthSecrets(sent: unknown, previous: unknown, options: OAuthSecretsOptions): ParsedOAuthSecrets {
  const parsed = parseTextFields(sent, "secrets", secretRules);
  if (!parsed.ok) return parsed;
  const kept = parseTextFields(previous, "secrets", secretRules);
  const before = kept.ok ? kept.values : {};
  const now = parsed.values;
  const merged: Record<string, string> =
    now.access_token === undefined
      ? { ...before, ...now }
      : {
          ...now,
          ...(now.refresh_token === undefined && before.refresh_token !== undefined ? { refresh_token: before.refresh_token } : {}),
        };
  if (merged.access_token === undefined) return { ok: false, errors: [{ param: "secrets.access_token", msg: "is required" }] };
  if (merged.expires_at !== undefined) {
    const at = new Date(merged.expires_at);
    if (Number.isNaN(at.getTime())) return { ok: false, errors: [{ param: "secrets.expires_at", msg: "is not a valid date-time" }] };
    merged.expires_at = at.toISOString();
  }
  if (!options.refreshable) {
    delete merged.refresh_token;
    delete merged.expires_at;
  }
  return { ok: true, secrets: merged as OAuthSecrets };
}

/** The JSON Schema of an OAuth connection's secrets (`refreshable` as in `parseOAuthSecrets`). */
export function oauthSecretsSchema(options: OAuthSecretsOptions): JsonSchema {
  const token = (description: string) => ({
    type: "string",
    minLength: 1,
    maxLength: 4096,
    pattern: "^[\\x21-\\x7e]+$",
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
      access_token: token("The access token the OAuth grant gave (set by the OAuth callback)."),
      refresh_token: token(`The refresh token, when the provider gives one.${dropped}`),
      expires_at: {
        type: "string",
        format: "date-time",
        writeOnly: true,
        description: `When the access token expires; absent when it does not.${dropped}`,
      },
      token_type: { type: "string", maxLength: 64, writeOnly: true },
      scope: { type: "string", maxLength: 4096, writeOnly: true, description: "The scopes granted, as the provider wrote them." },
    },
  };
}
