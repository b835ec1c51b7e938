import type { AttemptFacts } from "../destinationPlugin.js";
import type { ProviderAnswer } from "../providers/callProvider.js";

/**
 * SendGrid's answer to Mail Send as facts. The status says what it means (202 accepted, 400 with `errors[]`,
 * 401/403 the key, 429, 5xx), so no `providerOutcome` is set. What is added: on a 429 without `Retry-After`,
 * the wait until `X-RateLimit-Reset` (epoch seconds) as `retryAfterMs`; and a message naming the fields SendGrid
 * refused (`errors[].field`), never the values it quotes.
 */
export function readSendgridAnswer(answer: ProviderAnswer, now: Date): AttemptFacts {
  const { facts, json } = answer;
  const status = facts.httpStatus;
  if (status === undefined || (status >= 200 && status < 300)) return facts;
  const retryAfterMs = status === 429 ? (facts.retryAfterMs ?? untilReset(facts.responseHeaders?.["x-ratelimit-reset"], now)) : undefined;
  return {
    ...facts,
    message: `SendGrid answered ${status}${refusedFields(json)}`,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** Milliseconds from `now` to a reset given in epoch seconds; undefined when the header is absent or not a number. */
function untilReset(header: string | undefined, now: Date): number | undefined {
  if (header === undefined || !/^\d{1,12}$/.test(header.trim())) return undefined;
  return Math.max(0, Number(header.trim()) * 1000 - now.getTime());
}

function refusedFields(json: unknown): string {
  const errors = (json as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors)) return "";
  const fields = [
    ...new Set(errors.map((e: { field?: unknown }) => (typeof e?.field === "string" ? e.field : null)).filter((f) => f !== null)),
  ];
  return fields.length === 0 ? "" : `: refused ${fields.join(", ")}`;
}
