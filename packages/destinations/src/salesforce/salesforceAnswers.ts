import type { AttemptFacts } from "../destinationPlugin.js";
import type { ProviderAnswer } from "../providers/callProvider.js";
import { isPlainObject } from "../providers/isPlainObject.js";

/**
 * How long to wait after REQUEST_LIMIT_EXCEEDED, which Salesforce answers (403) without a Retry-After. The org's
 * API allowance is a rolling 24-hour total, which frees gradually, so the wait is long; the concurrent
 * long-running request limit clears within seconds, so its wait is a minute. The worker's schedule bounds both.
 */
export const totalLimitWaitMs = 15 * 60_000;
export const concurrentLimitWaitMs = 60_000;

/** Error codes that mean "try again": the server is unavailable, or a row lock was contended (answered 400). */
const transientCodes = new Set(["SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"]);

export interface SalesforceStepOptions {
  /** DUPLICATE_VALUE means the work is done (a campaign member that already exists). */
  readonly duplicateIsDone?: boolean;
  /** A 404 means the work is done (a campaign member already deleted). */
  readonly notFoundIsDone?: boolean;
}

/**
 * The facts of one Salesforce answer. Salesforce answers errors as `[{errorCode, message, fields}]`: the message
 * names the step, the error codes and the fields, never Salesforce's messages (they may quote values). The status
 * decides the outcome (401 INVALID_SESSION_ID `auth_failed`, other 4xx `rejected_client_error`, 5xx retried)
 * except for REQUEST_LIMIT_EXCEEDED (403: `rate_limited`), transient codes (retried) and `options`.
 */
export function salesforceFacts(step: string, answer: ProviderAnswer, options: SalesforceStepOptions = {}): AttemptFacts {
  const { facts, json } = answer;
  const status = facts.httpStatus;
  if (status === undefined) return { ...facts, message: `${step}: ${facts.message ?? facts.failure}` };
  if (status >= 200 && status < 300) return facts;
  const errors = salesforceErrors(json);
  const codes = [...new Set(errors.map((e) => e.errorCode))];
  const message = `Salesforce answered ${status} to ${step}${describe(codes, errors)}`;
  if (codes.includes("REQUEST_LIMIT_EXCEEDED")) {
    const concurrent = errors.some((e) => /concurrent/i.test(e.message));
    return {
      ...facts,
      providerOutcome: "rate_limited",
      retryAfterMs: facts.retryAfterMs ?? (concurrent ? concurrentLimitWaitMs : totalLimitWaitMs),
      message,
    };
  }
  if (codes.some((code) => transientCodes.has(code))) return { ...facts, providerOutcome: "rejected_server_error", message };
  if (options.duplicateIsDone === true && codes.includes("DUPLICATE_VALUE")) return { ...facts, providerOutcome: "delivered", message };
  if (options.notFoundIsDone === true && status === 404) return { ...facts, providerOutcome: "delivered", message };
  return { ...facts, message };
}

interface SalesforceError {
  readonly errorCode: string;
  readonly message: string;
  readonly fields: readonly string[];
}

function salesforceErrors(json: unknown): SalesforceError[] {
  const items = Array.isArray(json) ? json : isPlainObject(json) ? [json] : [];
  return items.filter(isPlainObject).flatMap((item) => {
    const code = word(item.errorCode);
    if (code === undefined) return [];
    const fields = Array.isArray(item.fields) ? item.fields.map(word).filter((f): f is string => f !== undefined) : [];
    return [{ errorCode: code, message: typeof item.message === "string" ? item.message : "", fields }];
  });
}

function describe(codes: readonly string[], errors: readonly SalesforceError[]): string {
  if (codes.length === 0) return "";
  const fields = [...new Set(errors.flatMap((e) => e.fields))].slice(0, 20);
  return `: ${codes.join(", ")}${fields.length > 0 ? ` (fields: ${fields.join(", ")})` : ""}`;
}

/** An error code or a field API name; anything else is left out of messages. */
function word(value: unknown): string | undefined {
  return typeof value === "string" && /^[A-Za-z0-9_.]{1,100}$/.test(value) ? value : undefined;
}
