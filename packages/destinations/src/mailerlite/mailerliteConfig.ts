import type { ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import { type ApiKeyMetadata, type ApiKeySecrets, parseApiKeyConfig } from "../providers/apiKeySecrets.js";

/** A MailerLite connection's `metadata`: nothing (the key names the account). */
export type MailerliteMetadata = ApiKeyMetadata;

/** A MailerLite connection's `secrets`: the API token, sealed, never returned. */
export type MailerliteSecrets = ApiKeySecrets;

/** Validates a MailerLite connection's config: an API key (kept from the stored config on update), no metadata. */
export function parseMailerliteConfig(
  input: ParseConfigInput<MailerliteMetadata, MailerliteSecrets>,
): ParseConfigResult<MailerliteMetadata, MailerliteSecrets> {
  return parseApiKeyConfig(input);
}
