import type { ConfigError, ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import { isPlainObject } from "../providers/isPlainObject.js";
import { parseOAuthSecrets } from "../providers/oauthConnectionSecrets.js";
import type { OAuthSecrets } from "../providers/oauthProvider.js";
import { hubspotSecrets } from "./hubspotDescription.js";

/** A HubSpot connection has no settings of its own: the OAuth grant (its tokens) is the connection. */
export type HubSpotMetadata = Readonly<Record<string, never>>;

/** The OAuth tokens; nothing else is kept. */
export function parseHubSpotConfig(
  input: ParseConfigInput<HubSpotMetadata, OAuthSecrets>,
): ParseConfigResult<HubSpotMetadata, OAuthSecrets> {
  const metadata = input.metadata ?? {};
  if (!isPlainObject(metadata)) return { ok: false, errors: [{ param: "metadata", msg: "must be an object" }] };
  const errors: ConfigError[] = Object.keys(metadata).map((key) => ({ param: `metadata.${key}`, msg: "is not a known property" }));
  const secrets = parseOAuthSecrets(input.secrets, input.previous?.secrets, hubspotSecrets);
  if (!secrets.ok) return { ok: false, errors: [...errors, ...secrets.errors] };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, metadata: {}, secrets: secrets.secrets };
}
