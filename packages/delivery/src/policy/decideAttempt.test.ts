import { describe, expect, it } from "vitest";
import { type AttemptOutcomeFacts, decideAttempt } from "./decideAttempt.js";

const options = { scale: 1, random: () => 0.5 };

describe("decideAttempt", () => {
  it.each<[string, AttemptOutcomeFacts, string, string]>([
    ["a 200", { httpStatus: 200 }, "delivered", "completed"],
    ["a 204", { httpStatus: 204 }, "delivered", "completed"],
    ["a 301 (redirects are not followed)", { httpStatus: 301 }, "rejected_client_error", "failed"],
    ["a 400", { httpStatus: 400 }, "rejected_client_error", "failed"],
    ["a 401", { httpStatus: 401 }, "auth_failed", "failed"],
    ["a 403", { httpStatus: 403 }, "auth_failed", "failed"],
    ["a 404", { httpStatus: 404 }, "rejected_client_error", "failed"],
    ["a 408", { httpStatus: 408 }, "timeout", "retry"],
    ["a 410", { httpStatus: 410 }, "rejected_client_error", "failed"],
    ["a 422", { httpStatus: 422 }, "rejected_client_error", "failed"],
    ["a 425", { httpStatus: 425 }, "rate_limited", "retry"],
    ["a 429", { httpStatus: 429 }, "rate_limited", "retry"],
    ["a 500", { httpStatus: 500 }, "rejected_server_error", "retry"],
    ["a 503", { httpStatus: 503 }, "rejected_server_error", "retry"],
    ["a timeout", { failure: "timeout" }, "timeout", "retry"],
    ["a network error", { failure: "network" }, "network_error", "retry"],
    ["a refused (non-public) address", { failure: "refused_address" }, "network_error", "failed"],
    ["a mapping error", { failure: "mapping" }, "mapping_error", "failed"],
    ["an internal error", { failure: "internal" }, "internal_error", "retry"],
    [
      "a 200 the plugin read as an auth failure (Slack's invalid_auth)",
      { httpStatus: 200, providerOutcome: "auth_failed" },
      "auth_failed",
      "failed",
    ],
    ["a 200 the plugin read as rate limited", { httpStatus: 200, providerOutcome: "rate_limited" }, "rate_limited", "retry"],
    [
      "a 400 the plugin read as a server error",
      { httpStatus: 400, providerOutcome: "rejected_server_error" },
      "rejected_server_error",
      "retry",
    ],
    [
      "a 200 the plugin read as a rejection",
      { httpStatus: 200, providerOutcome: "rejected_client_error" },
      "rejected_client_error",
      "failed",
    ],
    ["a 409 the plugin read as delivered (already a member)", { httpStatus: 409, providerOutcome: "delivered" }, "delivered", "completed"],
    [
      "a 410 the plugin read as a rejection",
      { httpStatus: 410, providerOutcome: "rejected_client_error" },
      "rejected_client_error",
      "failed",
    ],
  ])("when the attempt got %s, then the outcome is %s and the delivery is %s", (_case, facts, outcome, next) => {
    const decision = decideAttempt(facts, 1, options);
    expect(decision.outcome).toBe(outcome);
    expect(decision.next).toBe(next);
  });

  it("when a 410 arrives, then the connection is deactivated with the reason", () => {
    expect(decideAttempt({ httpStatus: 410 }, 1, options)).toEqual({
      outcome: "rejected_client_error",
      next: "failed",
      deactivateConnection: "the destination answered 410 Gone",
    });
  });

  it("when a plugin classifies a 410, then the connection is not deactivated for it", () => {
    expect(decideAttempt({ httpStatus: 410, providerOutcome: "rejected_client_error" }, 1, options)).toEqual({
      outcome: "rejected_client_error",
      next: "failed",
    });
  });

  it("when a plugin reads a 200 as rate limited with Retry-After, then the wait honours it", () => {
    const decision = decideAttempt({ httpStatus: 200, providerOutcome: "rate_limited", retryAfterMs: 90_000 }, 1, options);
    expect(decision).toEqual({ outcome: "rate_limited", next: "retry", delayMs: 60_000 });
  });

  it("when a retryable failure is the eighth attempt, then the delivery fails", () => {
    expect(decideAttempt({ httpStatus: 500 }, 8, options).next).toBe("failed");
    expect(decideAttempt({ httpStatus: 500 }, 7, options).next).toBe("retry");
  });

  it("when a 429 carries Retry-After, then the wait honours it at least a minute", () => {
    const decision = decideAttempt({ httpStatus: 429, retryAfterMs: 90_000 }, 1, options);
    expect(decision).toEqual({ outcome: "rate_limited", next: "retry", delayMs: 60_000 });
  });
});
