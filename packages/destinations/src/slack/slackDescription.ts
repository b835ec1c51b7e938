import type { IntegrationDescription } from "../integrationDescription.js";
import { type OAuthSecretsOptions, oauthSecretsDescription } from "../providers/oauthConnectionSecrets.js";

/** Slack's limit on a message's `text`: longer text is a mapping error, never cut short. */
export const slackTextLimit = 40_000;

/** The connection's secrets: the bot token, and with token rotation its refresh token, refreshed by the worker. */
export const slackSecrets: OAuthSecretsOptions = { refreshable: true };

export const slackDescription: IntegrationDescription = {
  type: "slack",
  name: "Slack",
  description:
    "Posts a message, rendered from the rule's template, to a channel of a Slack workspace as the workspace's installed app (OAuth).",
  authentication: { type: "oauth", oauth: { version: 2 } },
  actions: [
    {
      key: "send_message",
      label: "Send message",
      noun: "Channel",
      description: "Post the rendered template to a channel (chat.postMessage).",
      inputs: [
        {
          field: "id",
          key: "channel",
          kind: "simple",
          label: "Channel",
          required: true,
          maxLength: 64,
          description: "The channel's id (C… or G…), from the connection's channels. A private channel must have the app invited.",
        },
        {
          field: "template",
          key: "template",
          kind: "field",
          label: "Message",
          required: true,
          template: true,
          description: `The message text; {{path}} placeholders are filled from the event's payload. At most ${slackTextLimit} characters once rendered.`,
        },
      ],
    },
  ],
  fields: [],
  metadata_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    description: "Set from the OAuth grant: the workspace the app was installed in.",
    properties: {
      team_id: { type: "string", maxLength: 64, pattern: "^[A-Za-z0-9]+$", description: "The workspace's id (T…)." },
      team_name: { type: "string", maxLength: 256, description: "The workspace's name." },
      bot_user_id: {
        type: "string",
        maxLength: 64,
        pattern: "^[A-Za-z0-9]+$",
        description: "The app's bot user (U…), to invite to private channels.",
      },
    },
  },
  ...oauthSecretsDescription(slackSecrets),
};
