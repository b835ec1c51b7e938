import type { IncomingMessage } from "node:http";
import { type ReceivedRequest, startReceiver } from "../startReceiver.js";
import { type FakeAnswer, ScriptedAnswers, sendAnswer } from "./fakeAnswers.js";

/**
 * A local Slack Web API for tests: `origin` stands for `https://slack.com/api` (set it as the Slack `apiUrl`, as
 * `SWITCHYARD_SLACK_API_URL` does). It serves chat.postMessage and conversations.list as Slack documents them:
 * a bearer token, HTTP 200 with `{"ok": true, ...}` or `{"ok": false, "error": code}` (`not_authed`,
 * `invalid_auth`, `channel_not_found`, `is_archived`, `no_text`, `msg_too_long`, `invalid_json`...), and answers
 * scripted with `answerNext` (a 429 with Retry-After, a 5xx, any error code).
 */
export interface SlackFake {
  readonly origin: string;
  /** The bot token it accepts (`Authorization: Bearer <token>`), unless `acceptsToken` was given. */
  readonly token: string;
  /** Every request received, in order. */
  readonly requests: ReceivedRequest[];
  /** The messages it posted (accepted chat.postMessage calls). */
  readonly messages: { readonly channel: string; readonly text: string }[];
  /** The workspace's channels; change it to change what is listed and where posting works. */
  readonly channels: SlackFakeChannel[];
  /** Answers for the next requests (any method), in order, before any check; then the fake answers normally again. */
  answerNext(...answers: SlackFakeAnswer[]): void;
  close(): Promise<void>;
}

export interface SlackFakeChannel {
  readonly id: string;
  readonly name: string;
  readonly is_private?: boolean;
  readonly is_archived?: boolean;
}

export type SlackFakeAnswer =
  /** HTTP 200 `{"ok": false, "error": error}`. */
  | { readonly error: string }
  /** HTTP 429 with `Retry-After: retryAfterSeconds` and `{"ok": false, "error": "ratelimited"}`. */
  | { readonly status: 429; readonly retryAfterSeconds: number }
  /** A 5xx with `{"ok": false, "error": "internal_error"}`. */
  | { readonly status: 500 | 502 | 503 };

export const slackFakeToken = "xoxb-fake-1234-5678-abcdef";

export const defaultSlackFakeChannels: readonly SlackFakeChannel[] = [
  { id: "C0GENERAL1", name: "general" },
  { id: "C0ALERTS01", name: "alerts" },
  { id: "G0PRIVATE1", name: "founders", is_private: true },
  { id: "C0OLDNEWS1", name: "old-news", is_archived: true },
];

/** Slack's limit on `text` that the fake enforces (`msg_too_long`). */
const maxTextLength = 40_000;

export interface SlackFakeOptions {
  /** The bot token it accepts. Default `slackFakeToken`. */
  readonly token?: string;
  /**
   * Which bearer tokens it accepts, instead of `token` alone: tokens minted by a fake OAuth server, say
   * (`acceptsToken: (t) => oauth.isLiveAccessToken(t)`), so that refreshed tokens work and revoked ones answer
   * `invalid_auth`.
   */
  readonly acceptsToken?: (token: string) => boolean;
  readonly channels?: readonly SlackFakeChannel[];
}

export async function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  const token = options.token ?? slackFakeToken;
  const accepts = options.acceptsToken ?? ((sent: string) => sent === token);
  const channels = [...(options.channels ?? defaultSlackFakeChannels)];
  const messages: { channel: string; text: string }[] = [];
  const scripted = new ScriptedAnswers<SlackFakeAnswer>();
  const receiver = await startReceiver((req, res, body) => {
    const next = scripted.take(req.url ?? "");
    const answer = next !== undefined ? scriptedReply(next) : route(req, body, { accepts, channels, messages });
    sendAnswer(res, answer, "application/json; charset=utf-8");
  });
  return {
    origin: receiver.origin,
    token,
    requests: receiver.requests,
    messages,
    channels,
    answerNext: (...answers) => {
      for (const answer of answers) scripted.add(answer);
    },
    close: () => receiver.close(),
  };
}

interface Workspace {
  readonly accepts: (token: string) => boolean;
  readonly channels: readonly SlackFakeChannel[];
  readonly messages: { channel: string; text: string }[];
}

const slackError = (error: string): FakeAnswer => ({ status: 200, json: { ok: false, error } });

function route(req: IncomingMessage, body: Buffer, workspace: Workspace): FakeAnswer {
  const auth = req.headers.authorization;
  if (auth === undefined) return slackError("not_authed");
  if (!auth.startsWith("Bearer ") || !workspace.accepts(auth.slice("Bearer ".length))) return slackError("invalid_auth");
  const url = new URL(req.url ?? "/", "http://fake");
  if (url.pathname === "/chat.postMessage") return postMessage(req, body, workspace);
  if (url.pathname === "/conversations.list") {
    return listConversations(req.method === "GET" ? url.searchParams : new URLSearchParams(body.toString("utf8")), workspace.channels);
  }
  return slackError("unknown_method");
}

function postMessage(req: IncomingMessage, body: Buffer, { channels, messages }: Workspace): FakeAnswer {
  if (req.method !== "POST") return slackError("invalid_arguments");
  if (!/^application\/json(;\s*charset=utf-8)?$/i.test(req.headers["content-type"] ?? "")) return slackError("invalid_post_type");
  let sent: unknown;
  try {
    sent = JSON.parse(body.toString("utf8"));
  } catch {
    return slackError("invalid_json");
  }
  if (typeof sent !== "object" || sent === null || Array.isArray(sent)) return slackError("json_not_object");
  const { channel, text } = sent as { channel?: unknown; text?: unknown };
  const target = channels.find((c) => c.id === channel);
  if (typeof channel !== "string" || target === undefined) return slackError("channel_not_found");
  if (target.is_archived) return slackError("is_archived");
  if (typeof text !== "string" || text === "") return slackError("no_text");
  if (text.length > maxTextLength) return slackError("msg_too_long");
  messages.push({ channel, text });
  const ts = `${1_765_000_000 + messages.length}.000100`;
  return {
    status: 200,
    json: { ok: true, channel, ts, message: { type: "message", subtype: "bot_message", text, ts, bot_id: "B0FAKEBOT1" } },
  };
}

function listConversations(params: URLSearchParams, channels: readonly SlackFakeChannel[]): FakeAnswer {
  const types = (params.get("types") ?? "public_channel").split(",");
  if (types.some((t) => !["public_channel", "private_channel", "mpim", "im"].includes(t))) return slackError("invalid_types");
  const limit = Number(params.get("limit") ?? "100");
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return slackError("invalid_limit");
  const cursor = params.get("cursor") ?? "";
  const offset =
    cursor === ""
      ? 0
      : Number(
          Buffer.from(cursor, "base64")
            .toString("utf8")
            .replace(/^offset:/, ""),
        );
  if (!Number.isInteger(offset) || offset < 0) return slackError("invalid_cursor");
  const matching = channels.filter(
    (c) =>
      types.includes(c.is_private ? "private_channel" : "public_channel") && !(params.get("exclude_archived") === "true" && c.is_archived),
  );
  const page = matching.slice(offset, offset + limit);
  const next = offset + limit < matching.length ? Buffer.from(`offset:${offset + limit}`, "utf8").toString("base64") : "";
  const listed = page.map((c) => ({
    id: c.id,
    name: c.name,
    is_channel: true,
    is_private: c.is_private ?? false,
    is_archived: c.is_archived ?? false,
  }));
  return { status: 200, json: { ok: true, channels: listed, response_metadata: { next_cursor: next } } };
}

function scriptedReply(next: SlackFakeAnswer): FakeAnswer {
  if ("error" in next) return slackError(next.error);
  if (next.status === 429)
    return { status: 429, json: { ok: false, error: "ratelimited" }, headers: { "Retry-After": String(next.retryAfterSeconds) } };
  return { status: next.status, json: { ok: false, error: "internal_error" } };
}
