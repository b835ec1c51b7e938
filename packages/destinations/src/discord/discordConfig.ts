import type { ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import { parseOAuthSecrets } from "../providers/oauthConnectionSecrets.js";
import type { OAuthSecrets } from "../providers/oauthProvider.js";
import { parseTextFields, type TextFieldRule } from "../providers/textFields.js";
import { discordSecrets } from "./discordDescription.js";

/** The server the bot was added to, as the OAuth grant tells it. */
export interface DiscordMetadata {
  readonly guild_id: string;
  readonly guild_name?: string;
}

/** Discord's ids (snowflakes): a 64-bit number written in decimal. */
export const snowflakePattern = /^[0-9]{1,20}$/;

const metadataRules: Readonly<Record<keyof DiscordMetadata, TextFieldRule>> = {
  guild_id: { required: true, maxLength: 20, pattern: snowflakePattern, patternMessage: "must be a Discord id (digits)" },
  guild_name: { maxLength: 100 },
};

/**
 * A Discord connection's config: the server in `metadata`; in `secrets`, the user's access token from the grant,
 * kept as the proof of the authorization. Messages go out with the operator's bot token, never this one, so its
 * refresh token and expiry are not kept: the worker has nothing to refresh, and a user revoking the app in their
 * own settings does not fail a bot that is still in the server.
 */
export function parseDiscordConfig(
  input: ParseConfigInput<DiscordMetadata, OAuthSecrets>,
): ParseConfigResult<DiscordMetadata, OAuthSecrets> {
  const metadata = parseTextFields(input.metadata, "metadata", metadataRules);
  const secrets = parseOAuthSecrets(input.secrets, input.previous?.secrets, discordSecrets);
  if (!metadata.ok || !secrets.ok)
    return { ok: false, errors: [...(metadata.ok ? [] : metadata.errors), ...(secrets.ok ? [] : secrets.errors)] };
  const { guild_id = "", guild_name } = metadata.values;
  const grantedGuild = input.fromGrant ? undefined : input.previous?.metadata.guild_id;
  if (!input.fromGrant && guild_id !== grantedGuild) {
    // The bot is the operator's, shared by every tenant: a server named by a caller could be another tenant's.
    return {
      ok: false,
      errors: [
        {
          param: "metadata.guild_id",
          msg:
            grantedGuild === undefined
              ? "a Discord connection is made through OAuth (POST /connections/oauth): the server comes from the grant"
              : "is the server the connection was authorized for; re-authorize the connection to change it",
        },
      ],
    };
  }
  return { ok: true, metadata: { guild_id, ...(guild_name === undefined ? {} : { guild_name }) }, secrets: secrets.secrets };
}
