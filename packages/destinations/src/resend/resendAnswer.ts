import type { AttemptFacts, ProviderOutcome } from "../destinationPlugin.js";
import type { ProviderAnswer } from "../providers/callProvider.js";

/**
 * Resend's answer as facts. Resend's errors are `{ statusCode, name, message }`; where the status alone would
 * classify one wrongly, `providerOutcome` says what it means:
 * - 400 `validation_error` "API key is invalid" (what endpoints other than sending answer for a bad key): auth_failed;
 * - 403 `validation_error` / `invalid_from_address` / `invalid_to_address` (an unverified domain, a test-only
 *   sender): the key is fine, the message is refused, so rejected_client_error (401 and 403 `invalid_api_key` stay auth_failed);
 * - 409 `concurrent_idempotent_requests` (the same idempotency key still in flight): retried as rejected_server_error.
 * A 429 without `Retry-After` waits for `ratelimit-reset` (seconds). The message names Resend's error, never the
 * text it quotes (which may hold an address from the payload; the body is kept in the attempt's record).
 */
export function readResendAnswer(answer: ProviderAnswer): AttemptFacts {
  const { facts, json } = answer;
  const status = facts.httpStatus;
  if (status === undefined || (status >= 200 && status < 300)) return facts;
  const error = (typeof json === "object" && json !== null ? json : {}) as { name?: unknown; message?: unknown };
  const name = typeof error.name === "string" ? error.name : undefined;
  const outcome = outcomeOf(status, name, typeof error.message === "string" ? error.message : "");
  const retryAfterMs = status === 429 ? (facts.retryAfterMs ?? secondsHeader(facts.responseHeaders?.["ratelimit-reset"])) : undefined;
  return {
    ...facts,
    message: `Resend answered ${status}${name === undefined ? "" : ` ${name}`}`,
    ...(outcome === undefined ? {} : { providerOutcome: outcome }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

const refusedMessage: ReadonlySet<string> = new Set(["validation_error", "invalid_from_address", "invalid_to_address"]);

function outcomeOf(status: number, name: string | undefined, message: string): ProviderOutcome | undefined {
  if (status === 400 && name === "validation_error" && /api key/i.test(message)) return "auth_failed";
  if (status === 403 && name !== undefined && refusedMessage.has(name)) return "rejected_client_error";
  if (status === 409 && name === "concurrent_idempotent_requests") return "rejected_server_error";
  return undefined;
}

function secondsHeader(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,9}$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}
