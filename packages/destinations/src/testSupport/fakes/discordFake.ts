import type { IncomingMessage } from "node:http";
import { type ReceivedRequest, startReceiver } from "../startReceiver.js";
import { type FakeAnswer, ScriptedAnswers, sendAnswer } from "./fakeAnswers.js";

/**
 * A local Discord REST API for tests: `origin` stands for `https://discord.com/api/v10` (set it as the Discord
 * `apiUrl`, as `SWITCHYARD_DISCORD_API_URL` does). It serves GET /channels/{id} (the channel and its `guild_id`),
 * POST /channels/{id}/messages and GET /guilds/{id}/channels as Discord documents them: `Authorization: Bot
 * <token>`, JSON error bodies `{"code", "message"}` (401 `0 401: Unauthorized`, 403 `50013 Missing Permissions`, 404
 * `10003 Unknown Channel` / `10004 Unknown Guild`, 400 `50035 Invalid Form Body` for an embed over its limits,
 * `50006` for an empty message), and answers scripted with `answerNext` (a 429 with Retry-After and
 * `retry_after`, a 5xx).
 */
export interface DiscordFake {
  readonly origin: string;
  /** The bot token it accepts. */
  readonly botToken: string;
  readonly requests: ReceivedRequest[];
  /** The messages it accepted: the channel and the JSON body as sent. */
  readonly messages: { readonly channelId: string; readonly body: { embeds?: { title?: string; description?: string }[] } }[];
  /** The bot's servers and their channels; change them to change what is listed and where posting works. */
  readonly guilds: DiscordFakeGuild[];
  /** Answers for the next requests, in order, before any check; then the fake answers normally again. */
  answerNext(...answers: DiscordFakeAnswer[]): void;
  close(): Promise<void>;
}

export interface DiscordFakeGuild {
  readonly id: string;
  readonly name: string;
  readonly channels: DiscordFakeChannel[];
}

export interface DiscordFakeChannel {
  readonly id: string;
  readonly name: string;
  /** 0 text, 2 voice, 4 category, 5 announcement, 15 forum. */
  readonly type: number;
  readonly position: number;
  /** The bot sees the channel but may not post there: posting answers 403 50013 Missing Permissions. */
  readonly forbidden?: boolean;
}

export type DiscordFakeAnswer =
  /** 429 with `Retry-After` (whole seconds, rounded up) and `{"retry_after": retryAfterSeconds, "global": global}`. */
  { readonly status: 429; readonly retryAfterSeconds: number; readonly global?: boolean } | { readonly status: 500 | 502 | 503 };

export const discordFakeBotToken = "MTA5OTk5OTk5OTk5OTk5OTk5OQ.Gfake0.fake-bot-token-for-tests";

export const defaultDiscordFakeGuilds: readonly DiscordFakeGuild[] = [
  {
    id: "290926798626357250",
    name: "Acme",
    channels: [
      { id: "400000000000000004", name: "Text Channels", type: 4, position: 0 },
      { id: "400000000000000001", name: "general", type: 0, position: 1 },
      { id: "400000000000000002", name: "announcements", type: 5, position: 2 },
      { id: "400000000000000003", name: "Lounge", type: 2, position: 3 },
      { id: "400000000000000005", name: "staff-only", type: 0, position: 4, forbidden: true },
    ],
  },
];

export async function startDiscordFake(options: { botToken?: string; guilds?: readonly DiscordFakeGuild[] } = {}): Promise<DiscordFake> {
  const botToken = options.botToken ?? discordFakeBotToken;
  const guilds = (options.guilds ?? defaultDiscordFakeGuilds).map((g) => ({ ...g, channels: [...g.channels] }));
  const messages: DiscordFake["messages"][number][] = [];
  const scripted = new ScriptedAnswers<DiscordFakeAnswer>();
  const receiver = await startReceiver((req, res, body) => {
    const next = scripted.take(req.url ?? "");
    sendAnswer(res, next !== undefined ? scriptedReply(next) : route(req, body, { botToken, guilds, messages }), "application/json");
  });
  return {
    origin: receiver.origin,
    botToken,
    requests: receiver.requests,
    messages,
    guilds,
    answerNext: (...answers) => {
      for (const answer of answers) scripted.add(answer);
    },
    close: () => receiver.close(),
  };
}

interface Bot {
  readonly botToken: string;
  readonly guilds: readonly DiscordFakeGuild[];
  readonly messages: DiscordFake["messages"][number][];
}

const discordError = (status: number, code: number, message: string, errors?: unknown): FakeAnswer => ({
  status,
  json: { code, message, ...(errors === undefined ? {} : { errors }) },
});

function route(req: IncomingMessage, body: Buffer, bot: Bot): FakeAnswer {
  if (req.headers.authorization !== `Bot ${bot.botToken}`) return discordError(401, 0, "401: Unauthorized");
  const path = new URL(req.url ?? "/", "http://fake").pathname;
  const read = /^\/channels\/([0-9]+)$/.exec(path);
  if (read?.[1] !== undefined && req.method === "GET") return getChannel(read[1], bot);
  const post = /^\/channels\/([0-9]+)\/messages$/.exec(path);
  if (post?.[1] !== undefined && req.method === "POST") return createMessage(post[1], req, body, bot);
  const list = /^\/guilds\/([0-9]+)\/channels$/.exec(path);
  if (list?.[1] !== undefined && req.method === "GET") {
    const guild = bot.guilds.find((g) => g.id === list[1]);
    if (guild === undefined) return discordError(404, 10004, "Unknown Guild");
    return { status: 200, json: guild.channels.map(({ forbidden: _, ...c }) => ({ ...c, guild_id: guild.id, parent_id: null })) };
  }
  return discordError(404, 0, "404: Not Found");
}

function getChannel(channelId: string, bot: Bot): FakeAnswer {
  const guild = bot.guilds.find((g) => g.channels.some((c) => c.id === channelId));
  const channel = guild?.channels.find((c) => c.id === channelId);
  if (guild === undefined || channel === undefined) return discordError(404, 10003, "Unknown Channel");
  const { forbidden: _, ...shown } = channel;
  return { status: 200, json: { ...shown, guild_id: guild.id, parent_id: null } };
}

function createMessage(channelId: string, req: IncomingMessage, body: Buffer, bot: Bot): FakeAnswer {
  const channel = bot.guilds.flatMap((g) => g.channels).find((c) => c.id === channelId);
  if (channel === undefined) return discordError(404, 10003, "Unknown Channel");
  if (channel.forbidden) return discordError(403, 50013, "Missing Permissions");
  if (channel.type !== 0 && channel.type !== 5) return discordError(400, 50008, "Cannot send messages in a non-text channel");
  if (!/^application\/json/i.test(req.headers["content-type"] ?? "")) return discordError(400, 50035, "Invalid Form Body");
  let sent: { embeds?: unknown; content?: unknown };
  try {
    sent = JSON.parse(body.toString("utf8")) as typeof sent;
  } catch {
    return discordError(400, 50109, "The request body contains invalid JSON.");
  }
  const problem = embedProblem(sent.embeds);
  if (problem !== undefined) return discordError(400, 50035, "Invalid Form Body", problem);
  if (!Array.isArray(sent.embeds) || sent.embeds.length === 0) return discordError(400, 50006, "Cannot send an empty message");
  bot.messages.push({ channelId, body: sent as DiscordFake["messages"][number]["body"] });
  const id = String(500000000000000000n + BigInt(bot.messages.length));
  return {
    status: 200,
    json: { id, channel_id: channelId, type: 0, content: "", embeds: sent.embeds, author: { id: "1099999999999999999", bot: true } },
  };
}

/** Discord's `errors` object for embeds over their limits (title 256, description 4096, 10 embeds), or undefined. */
function embedProblem(embeds: unknown): unknown {
  if (embeds === undefined) return undefined;
  if (!Array.isArray(embeds) || embeds.length > 10)
    return { embeds: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 10 or fewer in length." }] } };
  for (const [index, embed] of embeds.entries()) {
    const { title, description } = (embed ?? {}) as { title?: unknown; description?: unknown };
    const tooLong = (value: unknown, max: number) => value !== undefined && (typeof value !== "string" || value.length > max);
    if (tooLong(title, 256))
      return {
        embeds: { [index]: { title: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 256 or fewer in length." }] } } },
      };
    if (tooLong(description, 4096))
      return {
        embeds: { [index]: { description: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 4096 or fewer in length." }] } } },
      };
  }
  return undefined;
}

function scriptedReply(next: DiscordFakeAnswer): FakeAnswer {
  if (next.status !== 429) return { status: next.status, json: { message: "Internal Server Error", code: 0 } };
  const global = next.global ?? false;
  return {
    status: 429,
    json: { message: "You are being rate limited.", retry_after: next.retryAfterSeconds, global },
    headers: {
      "Retry-After": String(Math.ceil(next.retryAfterSeconds)),
      "X-RateLimit-Scope": global ? "global" : "user",
      ...(global ? { "X-RateLimit-Global": "true" } : {}),
    },
  };
}
