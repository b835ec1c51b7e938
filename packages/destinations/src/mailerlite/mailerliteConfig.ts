import type { ConfigError, ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import { type ApiKeySecrets, parseApiKeySecrets } from "../providers/apiKeySecrets.js";

/** A MailerLite connection's `metadata`: nothing (the key names the account). */
export type MailerliteMetadata = Readonly<Record<string, never>>;

/** A MailerLite connection's `secrets`: the API token, sealed, never returned. */
export type MailerliteSecrets = ApiKeySecrets;

/** Validates a MailerLite connection's config: an API key (kept from the stored config on update), no metadata. */
export function parseMailerliteConfig(
  input: ParseConfigInput<MailerliteMetadata, MailerliteSecrets>,
): ParseConfigResult<MailerliteMetadata, MailerliteSecrets> {
  const { metadata } = input;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    return { ok: false, errors: [{ param: "metadata", msg: "must be an object" }] };
  }
  const errors: ConfigError[] = Object.keys(metadata).map((key) => ({ param: `metadata.${key}`, msg: "is not a known property" }));
  const secrets = parseApiKeySecrets(input.secrets, input.previous?.secrets, errors);
  if (errors.length > 0 || secrets === undefined) return { ok: false, errors };
  return { ok: true, metadata: {}, secrets };
}
