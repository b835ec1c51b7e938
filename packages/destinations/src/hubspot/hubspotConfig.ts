import type { ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import { parseOAuthConnectionConfig } from "../providers/oauthConnectionConfig.js";
import type { OAuthSecrets } from "../providers/oauthProvider.js";

/** A HubSpot connection has no settings of its own: the OAuth grant (its tokens) is the connection. */
export type HubSpotMetadata = Readonly<Record<string, never>>;

/** The OAuth tokens; nothing else is kept. */
export function parseHubSpotConfig(
  input: ParseConfigInput<HubSpotMetadata, OAuthSecrets>,
): ParseConfigResult<HubSpotMetadata, OAuthSecrets> {
  return parseOAuthConnectionConfig(input, {
    parseMetadata(metadata, fail) {
      for (const key of Object.keys(metadata)) fail(`metadata.${key}`, "is not a known property");
      return {};
    },
  });
}
