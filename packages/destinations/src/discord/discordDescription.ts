import type { IntegrationDescription } from "../integrationDescription.js";
import { type OAuthSecretsOptions, oauthSecretsDescription } from "../providers/oauthConnectionSecrets.js";

/** Discord's limits on an embed: longer text is a mapping error, never cut short. */
export const discordTitleLimit = 256;
/** The connection's secrets: the user's access token, kept as the proof of the grant and never refreshed (messages go out with the operator's bot token). */
export const discordSecrets: OAuthSecretsOptions = { refreshable: false };

export const discordDescriptionLimit = 4096;

export const discordDescription: IntegrationDescription = {
  type: "discord",
  name: "Discord",
  description:
    "Posts an embed (a title and the rendered template) to a text or announcement channel of a Discord server, as the operator's bot, added to the server with OAuth.",
  authentication: { type: "oauth", oauth: { version: 2 } },
  actions: [
    {
      key: "send_message",
      label: "Send message",
      noun: "Channel",
      description: "Post an embed to a channel: the title at the top, the rendered template as its body.",
      inputs: [
        {
          field: "id",
          key: "channel",
          kind: "simple",
          label: "Channel",
          required: true,
          maxLength: 20,
          description: "The channel's id (digits), from the connection's channels: a text or announcement channel the bot can see.",
        },
        {
          field: "title",
          key: "title",
          kind: "field",
          label: "Title",
          required: true,
          template: true,
          maxLength: 1024,
          description: `The embed's title; {{path}} placeholders are filled from the event's payload. At most ${discordTitleLimit} characters once rendered.`,
        },
        {
          field: "template",
          key: "template",
          kind: "field",
          label: "Message",
          required: true,
          template: true,
          description: `The embed's body; {{path}} placeholders are filled from the event's payload. At most ${discordDescriptionLimit} characters once rendered.`,
        },
      ],
    },
  ],
  fields: [],
  metadata_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    required: ["guild_id"],
    description: "Set from the OAuth grant: the server (guild) the bot was added to.",
    properties: {
      guild_id: { type: "string", pattern: "^[0-9]{1,20}$", description: "The server's id, whose channels are listed." },
      guild_name: { type: "string", maxLength: 100, description: "The server's name." },
    },
  },
  ...oauthSecretsDescription(discordSecrets),
};
