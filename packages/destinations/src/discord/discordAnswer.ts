import type { AttemptFacts } from "../destinationPlugin.js";

/** Discord's JSON error body: `{"code": 50001, "message": "Missing Access"}` (rate limits: `retry_after` in seconds). */
interface DiscordError {
  readonly code?: number;
  readonly message?: string;
  readonly retry_after?: number;
  readonly global?: boolean;
}

function discordErrorOf(json: unknown): DiscordError {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return {};
  const { code, message, retry_after: retryAfter, global } = json as Record<string, unknown>;
  return {
    ...(typeof code === "number" ? { code } : {}),
    ...(typeof message === "string" ? { message: message.slice(0, 200) } : {}),
    ...(typeof retryAfter === "number" && Number.isFinite(retryAfter) && retryAfter >= 0 ? { retry_after: retryAfter } : {}),
    ...(typeof global === "boolean" ? { global } : {}),
  };
}

/** "50001 Missing Access", as Discord names its errors. */
export function discordErrorText(json: unknown): string {
  const { code, message } = discordErrorOf(json);
  return [code, message].filter((part) => part !== undefined).join(" ");
}

/**
 * The facts of a Discord API call as Discord means them. The status decides, with three readings of our own:
 * - 429: `retry_after` of the JSON body (seconds, with decimals) is preferred to the `Retry-After` header (whole seconds).
 * - 401: Discord refused the operator's bot token (`auth_failed`, as the status says).
 * - 403: the bot token is good but the bot may not post in this channel (Missing Access, Missing Permissions): a
 *   permission of one channel, fixed in Discord's channel settings, not the connection's credentials. It is
 *   `rejected_client_error` (final), never `auth_failed`, which would blame and refresh the connection's grant.
 */
export function readDiscordAnswer(facts: AttemptFacts, json: unknown): AttemptFacts {
  const status = facts.httpStatus;
  if (status === undefined || (status >= 200 && status < 300)) return facts;
  const error = discordErrorOf(json);
  const said = discordErrorText(json);
  const detail = said === "" ? `Discord answered ${status}` : `Discord answered ${status} (${said})`;
  switch (status) {
    case 429: {
      const retryAfterMs = error.retry_after === undefined ? facts.retryAfterMs : Math.ceil(error.retry_after * 1000);
      return {
        ...facts,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        message: `${detail}${error.global ? ": the bot's global rate limit" : ""}`,
      };
    }
    case 401:
      return { ...facts, message: `${detail}: Discord refused the operator's bot token (SWITCHYARD_DISCORD_BOT_TOKEN)` };
    case 403:
      return {
        ...facts,
        providerOutcome: "rejected_client_error",
        message: `${detail}: the bot may not post in this channel; give it View Channel, Send Messages and Embed Links there`,
      };
    case 404:
      return { ...facts, message: `${detail}: no such channel, or the bot is not in its server (check the rule's metadata.id)` };
    default:
      return { ...facts, message: detail };
  }
}
