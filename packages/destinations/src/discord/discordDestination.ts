import type { DeliveryContext } from "../deliveryContext.js";
import type { ActionItem, AttemptFacts, ConnectionConfig, DeliveryRequest, DestinationPlugin } from "../destinationPlugin.js";
import { callProvider, failedBeforeSending, guardAttempt, ProviderReadError, readProvider } from "../providers/callProvider.js";
import { renderMessageText } from "../providers/messageText.js";
import { noSuchAction } from "../providers/noSuchAction.js";
import type { OAuthGrantDetails, OAuthSecrets } from "../providers/oauthProvider.js";
import { apiBase } from "../providers/providerSettings.js";
import { ruleText } from "../providers/ruleInputs.js";
import { channelOutsideGuild } from "./channelGuild.js";
import { readDiscordAnswer } from "./discordAnswer.js";
import { type DiscordMetadata, parseDiscordConfig, snowflakePattern } from "./discordConfig.js";
import { discordDescription, discordDescriptionLimit, discordTitleLimit } from "./discordDescription.js";

/** Discord's REST API, version 10; the operator's `SWITCHYARD_DISCORD_API_URL` replaces it (a local fake in tests). */
export const discordApiBase = "https://discord.com/api/v10";

/** The bot's permissions asked when it is added: View Channels (1 << 10), Send Messages (1 << 11), Embed Links (1 << 14). */
export const discordBotPermissions = (1n << 10n) | (1n << 11n) | (1n << 14n);

/** Discord asks API clients to name themselves as `DiscordBot (url, version)`; Switchyard has no public URL to give. */
const userAgent = "DiscordBot (Switchyard, 1)";
const readTimeoutMs = 10_000;
/** Guild text (0) and announcement (5) channels: the ones a bot posts messages to. */
const messageChannelTypes: ReadonlyMap<number, string> = new Map([
  [0, ""],
  [5, " (announcement)"],
]);

/**
 * Discord: `send_message` posts an embed (title, rendered template) to a channel. The connection's OAuth grant
 * adds the operator's bot to a server; messages are sent with the bot token (`SWITCHYARD_DISCORD_BOT_TOKEN`).
 */
export const discordDestination: DestinationPlugin<DiscordMetadata, OAuthSecrets> = {
  type: "discord",
  description: discordDescription,
  parseConfig: parseDiscordConfig,
  deliver: (request, context) => guardAttempt(() => deliverDiscord(request, context)),
  loadActionData: async (connection, context) => ({ send_message: await listDiscordChannels(connection, context) }),
  oauth: {
    authorizeUrl: "https://discord.com/oauth2/authorize",
    tokenUrl: "https://discord.com/api/oauth2/token",
    scopes: ["bot"],
    authorizeParams: { permissions: String(discordBotPermissions) },
    // Discord's examples authenticate the client with HTTP Basic; form fields are accepted too.
    clientAuth: "client_secret_basic",
    readGrant: readDiscordGrant,
  },
};

function botTokenOf(context: DeliveryContext): string | undefined {
  const token = context.providers?.get("discord")?.botToken;
  return token === undefined || token === "" ? undefined : token;
}

const noBotToken =
  "SWITCHYARD_DISCORD_BOT_TOKEN is not set: Discord messages are sent by the operator's bot, with the token of the Discord application's bot user";

async function deliverDiscord(request: DeliveryRequest, context: DeliveryContext): Promise<AttemptFacts> {
  if (request.action !== "send_message") return noSuchAction(discordDescription, request.action);
  const botToken = botTokenOf(context);
  if (botToken === undefined) return failedBeforeSending("internal", noBotToken);
  const channelId = ruleText(request, "id");
  if (channelId === undefined) return failedBeforeSending("mapping", "metadata.id (the Discord channel) is not set on the rule");
  if (!snowflakePattern.test(channelId)) return failedBeforeSending("mapping", "metadata.id is not a Discord channel id (digits)");
  const title = renderMessageText(request, "title", { maxLength: discordTitleLimit, of: "a Discord embed's title" });
  if (!title.ok) return failedBeforeSending("mapping", title.message);
  const description = renderMessageText(request, "template", { maxLength: discordDescriptionLimit, of: "a Discord embed's description" });
  if (!description.ok) return failedBeforeSending("mapping", description.message);
  const guildId = (request.connection.metadata as Partial<DiscordMetadata> | null)?.guild_id;
  if (typeof guildId !== "string")
    return failedBeforeSending("internal", `connection ${request.connection.id} has no stored metadata.guild_id`);
  const base = apiBase(context.providers, "discord", discordApiBase);
  const headers = { Authorization: `Bot ${botToken}`, "User-Agent": userAgent };
  const started = Date.now();
  const outside = await channelOutsideGuild({ base, channelId, guildId, headers, timeoutMs: request.timeoutMs, now: request.now }, context);
  if (outside !== undefined) return outside;
  const { facts, json } = await callProvider(
    {
      method: "POST",
      url: `${base}/channels/${channelId}/messages`,
      headers,
      json: { embeds: [{ title: title.text, description: description.text }] },
      timeoutMs: Math.max(1, request.timeoutMs - (Date.now() - started)),
    },
    context,
    request.now,
  );
  return readDiscordAnswer(facts, json);
}

/** The server's text and announcement channels (GET /guilds/{id}/channels), in the server's order, read with the bot token. */
async function listDiscordChannels(connection: ConnectionConfig, context: DeliveryContext): Promise<ActionItem[]> {
  const botToken = botTokenOf(context);
  if (botToken === undefined) throw new ProviderReadError(`Discord cannot be asked: ${noBotToken}`);
  const guildId = (connection.metadata as Partial<DiscordMetadata> | null)?.guild_id;
  if (typeof guildId !== "string" || !snowflakePattern.test(guildId)) {
    throw new Error(`connection ${connection.id} has no valid stored metadata.guild_id`);
  }
  const json = await readProvider(
    "Discord",
    {
      method: "GET",
      url: `${apiBase(context.providers, "discord", discordApiBase)}/guilds/${guildId}/channels`,
      headers: { Authorization: `Bot ${botToken}`, "User-Agent": userAgent },
      timeoutMs: readTimeoutMs,
    },
    context,
  );
  if (!Array.isArray(json)) throw new ProviderReadError("Discord's channel list is not a list");
  const channels = (json as { id?: unknown; name?: unknown; type?: unknown; position?: unknown }[]).filter(
    (c) => typeof c?.id === "string" && typeof c.name === "string" && typeof c.type === "number" && messageChannelTypes.has(c.type),
  );
  channels.sort((a, b) => (Number(a.position) || 0) - (Number(b.position) || 0));
  return channels.map((c) => ({ id: String(c.id), label: `#${String(c.name)}${messageChannelTypes.get(Number(c.type)) ?? ""}` }));
}

/**
 * What Discord's token answer says besides the tokens: the server the bot was added to (`guild`, present when the
 * grant had the `bot` scope). Without it the bot is in no server, and the connection could post nowhere.
 */
export function readDiscordGrant(token: Readonly<Record<string, unknown>>): OAuthGrantDetails {
  const guild = typeof token.guild === "object" && token.guild !== null ? (token.guild as Record<string, unknown>) : undefined;
  if (typeof guild?.id !== "string" || !snowflakePattern.test(guild.id)) {
    return { error: "Discord's token answer names no server: the bot was not added (the authorization needs the bot scope)" };
  }
  return { metadata: { guild_id: guild.id, ...(typeof guild.name === "string" ? { guild_name: guild.name.slice(0, 100) } : {}) } };
}
