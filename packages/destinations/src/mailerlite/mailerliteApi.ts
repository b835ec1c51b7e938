import type { DeliveryContext } from "../deliveryContext.js";
import type { AttemptFacts, ConnectionConfig } from "../destinationPlugin.js";
import { apiKeyOf } from "../providers/apiKeySecrets.js";
import { apiBase } from "../providers/providerSettings.js";

/** How one connection reaches MailerLite's API: its base URL and the headers that authenticate it. */
export interface MailerliteApi {
  readonly base: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The connection's API: the documented `https://connect.mailerlite.com/api` (or the operator's
 * `SWITCHYARD_MAILERLITE_API_URL`), with the token as `Authorization: Bearer`. Undefined without a stored key.
 */
export function mailerliteApi(connection: ConnectionConfig, context: DeliveryContext): MailerliteApi | undefined {
  const apiKey = apiKeyOf(connection.secrets);
  if (apiKey === undefined) return undefined;
  return {
    base: apiBase(context.providers, "mailerlite", "https://connect.mailerlite.com/api"),
    headers: { Authorization: `Bearer ${apiKey}` },
  };
}

/** MailerLite's rate limit window: 120 requests a minute per account. */
const rateLimitWindowMs = 60_000;

/**
 * The answer's facts as the worker should read them, with a message for an error. A 429 carries `Retry-After`
 * (read by the HTTP layer); one that only says `X-RateLimit-Remaining: 0` waits for the minute window to pass.
 */
export function mailerliteFacts(facts: AttemptFacts, json: unknown, durationMs: number): AttemptFacts {
  const status = facts.httpStatus;
  if (status === undefined || (status >= 200 && status < 300)) return { ...facts, durationMs };
  const exhausted = status === 429 && facts.retryAfterMs === undefined && facts.responseHeaders?.["x-ratelimit-remaining"] === "0";
  return {
    ...facts,
    durationMs,
    message: mailerliteProblem(status, json),
    ...(exhausted ? { retryAfterMs: rateLimitWindowMs } : {}),
  };
}

/**
 * What a MailerLite error answer says: the fields its validation `errors` name (`email`, `fields.phone`,
 * `groups.0`), else its `message` ("Unauthenticated."), cut short. The validation messages are left out.
 */
export function mailerliteProblem(status: number, json: unknown): string {
  const answer = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
  const errors = answer.errors;
  if (typeof errors === "object" && errors !== null && !Array.isArray(errors) && Object.keys(errors).length > 0) {
    return `MailerLite answered ${status} (fields: ${Object.keys(errors).slice(0, 10).join(", ")})`;
  }
  return typeof answer.message === "string" && answer.message !== ""
    ? `MailerLite answered ${status}: ${answer.message.slice(0, 200)}`
    : `MailerLite answered ${status}`;
}
