import type { DeliveryContext } from "../deliveryContext.js";
import type { AttemptFacts } from "../destinationPlugin.js";
import { callProvider, failedBeforeSending } from "../providers/callProvider.js";
import { readDiscordAnswer } from "./discordAnswer.js";

/**
 * The server each channel belongs to, by API base and channel id: a channel never moves to another server, so
 * Discord is asked once per channel and process. Bounded: past the bound it is emptied, never grown.
 */
const maxRemembered = 10_000;
const guildOfChannel = new Map<string, string>();

export interface ChannelCheck {
  readonly base: string;
  readonly channelId: string;
  readonly guildId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly now: () => Date;
}

/**
 * Undefined when the channel is in the connection's server; else the facts that end the attempt. The bot is the
 * operator's, shared by every connection, and sees the channels of every server it was added to: without this
 * check a rule could post into another tenant's server by naming one of its channels. Discord's answer to
 * GET /channels/{id} is read like a send's (404 unknown channel, 403 the bot cannot see it, 429, 5xx).
 */
export async function channelOutsideGuild(check: ChannelCheck, context: DeliveryContext): Promise<AttemptFacts | undefined> {
  const key = `${check.base}|${check.channelId}`;
  let guildId = guildOfChannel.get(key);
  if (guildId === undefined) {
    const { facts, json } = await callProvider(
      { method: "GET", url: `${check.base}/channels/${check.channelId}`, headers: check.headers, timeoutMs: check.timeoutMs },
      context,
      check.now,
    );
    if (facts.httpStatus === undefined || facts.httpStatus < 200 || facts.httpStatus >= 300) return readDiscordAnswer(facts, json);
    const found = (json as { guild_id?: unknown } | undefined)?.guild_id;
    if (typeof found !== "string")
      return failedBeforeSending("mapping", "metadata.id is not a channel of a Discord server (a direct message?)");
    if (guildOfChannel.size >= maxRemembered) guildOfChannel.clear();
    guildOfChannel.set(key, found);
    guildId = found;
  }
  if (guildId === check.guildId) return undefined;
  return failedBeforeSending(
    "mapping",
    "metadata.id is a channel of another Discord server than the connection's; pick one of its channels",
  );
}
