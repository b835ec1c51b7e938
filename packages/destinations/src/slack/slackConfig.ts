import type { ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import { parseOAuthSecrets } from "../providers/oauthConnectionSecrets.js";
import type { OAuthSecrets } from "../providers/oauthProvider.js";
import { parseTextFields, type TextFieldRule } from "../providers/textFields.js";
import { slackSecrets } from "./slackDescription.js";

/** What the OAuth grant says about the workspace; all optional, as a caller with an access token may know none of it. */
export interface SlackMetadata {
  readonly team_id?: string;
  readonly team_name?: string;
  readonly bot_user_id?: string;
}

const slackId: TextFieldRule = { maxLength: 64, pattern: /^[A-Za-z0-9]+$/, patternMessage: "must be a Slack id (letters and digits)" };

const metadataRules: Readonly<Record<keyof SlackMetadata, TextFieldRule>> = {
  team_id: slackId,
  team_name: { maxLength: 256 },
  bot_user_id: slackId,
};

/** A Slack connection's config: the workspace in `metadata`, the bot token (and its refresh token, with token rotation) in `secrets`. */
export function parseSlackConfig(input: ParseConfigInput<SlackMetadata, OAuthSecrets>): ParseConfigResult<SlackMetadata, OAuthSecrets> {
  const metadata = parseTextFields(input.metadata, "metadata", metadataRules);
  const secrets = parseOAuthSecrets(input.secrets, input.previous?.secrets, slackSecrets);
  if (!metadata.ok || !secrets.ok)
    return { ok: false, errors: [...(metadata.ok ? [] : metadata.errors), ...(secrets.ok ? [] : secrets.errors)] };
  return { ok: true, metadata: metadata.values, secrets: secrets.secrets };
}
