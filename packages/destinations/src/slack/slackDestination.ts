import type { DeliveryContext } from "../deliveryContext.js";
import type { ActionItem, AttemptFacts, ConnectionConfig, DeliveryRequest, DestinationPlugin } from "../destinationPlugin.js";
import { callProvider, failedBeforeSending, guardAttempt, ProviderReadError, readProvider } from "../providers/callProvider.js";
import { renderMessageText } from "../providers/messageText.js";
import { noSuchAction } from "../providers/noSuchAction.js";
import { accessTokenOf, type OAuthGrantDetails, type OAuthSecrets } from "../providers/oauthProvider.js";
import { apiBase } from "../providers/providerSettings.js";
import { ruleText } from "../providers/ruleInputs.js";
import { readSlackAnswer, slackErrorOf } from "./slackAnswer.js";
import { parseSlackConfig, type SlackMetadata } from "./slackConfig.js";
import { slackDescription, slackTextLimit } from "./slackDescription.js";

/** Slack's Web API; the operator's `SWITCHYARD_SLACK_API_URL` replaces it (a local fake in tests). */
export const slackApiBase = "https://slack.com/api";

/** conversations.list is read this many channels a page (Slack advises at most 200), for at most `maxChannelPages` pages. */
const channelPageSize = 200;
const maxChannelPages = 25;
const readTimeoutMs = 10_000;

/** Slack: `send_message` posts the rule's rendered template to a channel with the workspace's bot token (OAuth v2). */
export const slackDestination: DestinationPlugin<SlackMetadata, OAuthSecrets> = {
  type: "slack",
  description: slackDescription,
  parseConfig: parseSlackConfig,
  deliver: (request, context) => guardAttempt(() => deliverSlack(request, context)),
  loadActionData: async (connection, context) => ({ send_message: await listSlackChannels(connection, context) }),
  oauth: {
    authorizeUrl: "https://slack.com/oauth/v2/authorize",
    tokenUrl: "https://slack.com/api/oauth.v2.access",
    // chat:write.public lets the app post to any public channel without being invited first.
    scopes: ["chat:write", "chat:write.public", "channels:read", "groups:read"],
    scopeSeparator: ",",
    scopeParam: "scope",
    // Slack asks apps to send client_id and client_secret with HTTP Basic rather than as form fields.
    clientAuth: "client_secret_basic",
    readGrant: readSlackGrant,
  },
};

async function deliverSlack(request: DeliveryRequest, context: DeliveryContext): Promise<AttemptFacts> {
  if (request.action !== "send_message") return noSuchAction(slackDescription, request.action);
  const token = accessTokenOf(request.connection.secrets);
  if (token === undefined) return failedBeforeSending("internal", `connection ${request.connection.id} has no stored Slack access token`);
  const channel = ruleText(request, "id");
  if (channel === undefined) return failedBeforeSending("mapping", "metadata.id (the Slack channel) is not set on the rule");
  const text = renderMessageText(request, "template", { maxLength: slackTextLimit, of: "a Slack message's text" });
  if (!text.ok) return failedBeforeSending("mapping", text.message);
  const { facts, json } = await callProvider(
    {
      method: "POST",
      url: `${apiBase(context.providers, "slack", slackApiBase)}/chat.postMessage`,
      // Slack warns (missing_charset) about a JSON body sent without its charset.
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json; charset=utf-8" },
      json: { channel, text: text.text },
      timeoutMs: request.timeoutMs,
    },
    context,
    request.now,
  );
  return readSlackAnswer(facts, json);
}

/**
 * The workspace's public channels and the private ones the app was invited to (conversations.list, archived ones
 * left out), by name. Paged with Slack's cursor, at most `maxChannelPages` pages: a larger workspace lists its first
 * channels only, and a rule may still name any channel id.
 */
async function listSlackChannels(connection: ConnectionConfig, context: DeliveryContext): Promise<ActionItem[]> {
  const token = accessTokenOf(connection.secrets);
  if (token === undefined) throw new ProviderReadError("Slack cannot be asked: the connection has no access token");
  const base = apiBase(context.providers, "slack", slackApiBase);
  const items: ActionItem[] = [];
  let cursor = "";
  for (let page = 0; page < maxChannelPages; page++) {
    const query = new URLSearchParams({
      types: "public_channel,private_channel",
      exclude_archived: "true",
      limit: String(channelPageSize),
    });
    if (cursor !== "") query.set("cursor", cursor);
    const json = await readProvider(
      "Slack",
      {
        method: "GET",
        url: `${base}/conversations.list?${query}`,
        headers: { Authorization: `Bearer ${token}` },
        timeoutMs: readTimeoutMs,
      },
      context,
    );
    const answer = slackPage(json);
    items.push(...answer.items);
    cursor = answer.nextCursor;
    if (cursor === "") break;
  }
  return items.sort((a, b) => a.label.localeCompare(b.label));
}

function slackPage(json: unknown): { items: ActionItem[]; nextCursor: string } {
  const error = slackErrorOf(json);
  if (error !== undefined) throw new ProviderReadError(`Slack answered "${error}" to conversations.list`);
  const { channels, response_metadata: meta } = json as { channels?: unknown; response_metadata?: { next_cursor?: unknown } };
  if (!Array.isArray(channels)) throw new ProviderReadError("Slack's conversations.list answer has no channels");
  const items: ActionItem[] = [];
  for (const channel of channels as { id?: unknown; name?: unknown; is_private?: unknown }[]) {
    if (typeof channel?.id !== "string" || typeof channel.name !== "string") continue;
    items.push({ id: channel.id, label: `#${channel.name}${channel.is_private === true ? " (private)" : ""}` });
  }
  const next = meta?.next_cursor;
  return { items, nextCursor: typeof next === "string" ? next : "" };
}

/**
 * What oauth.v2.access says besides the tokens: an error in its `{"ok": false}` (HTTP 200), else the workspace the
 * app was installed in. The top-level token is the bot token (the grant asks bot scopes only).
 */
export function readSlackGrant(token: Readonly<Record<string, unknown>>): OAuthGrantDetails {
  const error = slackErrorOf(token);
  if (error !== undefined) return { error: `Slack refused the grant: ${error}` };
  if (token.ok !== true) return { error: `Slack's token answer does not say {"ok": true}` };
  const team = typeof token.team === "object" && token.team !== null ? (token.team as Record<string, unknown>) : {};
  const metadata: Record<string, string> = {};
  if (typeof team.id === "string") metadata.team_id = team.id;
  if (typeof team.name === "string") metadata.team_name = team.name.slice(0, 256);
  if (typeof token.bot_user_id === "string") metadata.bot_user_id = token.bot_user_id;
  return { metadata };
}
