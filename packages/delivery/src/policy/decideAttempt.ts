import { delayBeforeNextAttempt } from "./retrySchedule.js";

/** How an attempt ended, in the vocabulary Meshes uses for delivery outcomes (the attempt's `outcome_code`). */
export type OutcomeCode =
  | "delivered"
  | "rejected_client_error"
  | "rejected_server_error"
  | "rate_limited"
  | "auth_failed"
  | "timeout"
  | "network_error"
  | "mapping_error"
  | "internal_error";

/** The facts of one attempt that the decision depends on (a subset of a destination's AttemptFacts). */
export interface AttemptOutcomeFacts {
  readonly httpStatus?: number | undefined;
  readonly failure?: "timeout" | "network" | "refused_address" | "mapping" | "internal" | undefined;
  readonly retryAfterMs?: number | undefined;
  /** The plugin's reading of a provider's answer, honoured over the status (see the destinations' AttemptFacts). */
  readonly providerOutcome?: "delivered" | "rate_limited" | "auth_failed" | "rejected_client_error" | "rejected_server_error" | undefined;
}

export type AttemptDecision =
  | { readonly outcome: OutcomeCode; readonly next: "completed" }
  | { readonly outcome: OutcomeCode; readonly next: "retry"; readonly delayMs: number }
  | {
      readonly outcome: OutcomeCode;
      readonly next: "failed";
      /** Why the connection must be deactivated as well (a 410 Gone), if it must. */
      readonly deactivateConnection?: string;
    };

/**
 * The one place that decides what an attempt means: only 2xx is success; 408, 425, 429,
 * 5xx, timeouts and network errors are retried on the schedule; 410 Gone is final and deactivates the
 * connection; 401/403 are `auth_failed` and other 3xx/4xx `rejected_client_error`, both final. A
 * destination refused by the address policy is final (retrying cannot make it public); our own internal
 * errors are retried, mapping errors are not. A plugin's `providerOutcome` (Slack's `ok: false` in a 200, say)
 * is honoured over the status: rate limits and server errors retried, the rest final.
 */
export function decideAttempt(
  facts: AttemptOutcomeFacts,
  attempt: number,
  options: { readonly scale: number; readonly random: () => number },
): AttemptDecision {
  const { outcome, retryable, slowDown } = classify(facts);
  if (outcome === "delivered") return { outcome, next: "completed" };
  if (facts.httpStatus === 410 && facts.providerOutcome === undefined)
    return { outcome, next: "failed", deactivateConnection: "the destination answered 410 Gone" };
  if (!retryable) return { outcome, next: "failed" };
  const delayMs = delayBeforeNextAttempt({
    attempt,
    retryAfterMs: facts.retryAfterMs,
    slowDown,
    scale: options.scale,
    random: options.random(),
  });
  return delayMs === undefined ? { outcome, next: "failed" } : { outcome, next: "retry", delayMs };
}

function classify(facts: AttemptOutcomeFacts): { outcome: OutcomeCode; retryable: boolean; slowDown: boolean } {
  if (facts.providerOutcome !== undefined && facts.httpStatus !== undefined) return classifyProvider(facts.providerOutcome);
  const status = facts.httpStatus;
  if (status === undefined) {
    switch (facts.failure) {
      case "timeout":
        return { outcome: "timeout", retryable: true, slowDown: true };
      case "network":
        return { outcome: "network_error", retryable: true, slowDown: false };
      case "refused_address":
        return { outcome: "network_error", retryable: false, slowDown: false };
      case "mapping":
        return { outcome: "mapping_error", retryable: false, slowDown: false };
      default:
        return { outcome: "internal_error", retryable: true, slowDown: false };
    }
  }
  if (status >= 200 && status < 300) return { outcome: "delivered", retryable: false, slowDown: false };
  if (status === 429) return { outcome: "rate_limited", retryable: true, slowDown: true };
  if (status === 408) return { outcome: "timeout", retryable: true, slowDown: true };
  if (status === 425) return { outcome: "rate_limited", retryable: true, slowDown: false };
  if (status >= 500) return { outcome: "rejected_server_error", retryable: true, slowDown: false };
  if (status === 401 || status === 403) return { outcome: "auth_failed", retryable: false, slowDown: false };
  return { outcome: "rejected_client_error", retryable: false, slowDown: false };
}

function classifyProvider(outcome: NonNullable<AttemptOutcomeFacts["providerOutcome"]>): {
  outcome: OutcomeCode;
  retryable: boolean;
  slowDown: boolean;
} {
  switch (outcome) {
    case "delivered":
      return { outcome, retryable: false, slowDown: false };
    case "rate_limited":
      return { outcome, retryable: true, slowDown: true };
    case "rejected_server_error":
      return { outcome, retryable: true, slowDown: false };
    default:
      return { outcome, retryable: false, slowDown: false };
  }
}
