import type { AttemptFacts, ProviderOutcome } from "../destinationPlugin.js";

/** Slack's `error` codes that mean the token is no good (the worker refreshes once, then the connection must be reconnected). */
const authErrors: ReadonlySet<string> = new Set([
  "invalid_auth",
  "not_authed",
  "token_revoked",
  "token_expired",
  "account_inactive",
  "missing_scope",
  "not_allowed_token_type",
]);
const rateLimitErrors: ReadonlySet<string> = new Set(["ratelimited", "rate_limited"]);
/** Slack's own failures, retried. `fatal_error` may have posted the message before failing: a retry may post it twice. */
const serverErrors: ReadonlySet<string> = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout"]);

const hints: Readonly<Record<string, string>> = {
  channel_not_found: "no channel with this id is visible to the app (check the rule's metadata.id)",
  not_in_channel: "the app is not a member of the channel: invite it there (/invite), which a private channel always needs",
  is_archived: "the channel is archived",
  msg_too_long: "the message is too long",
  no_text: "the message is empty",
  missing_scope: "the app's grant lacks a scope the call needs: connect Slack again",
  invalid_auth: "the token is not valid: connect Slack again",
  token_revoked: "the token was revoked (the app was removed from the workspace?): connect Slack again",
};

/** How one of Slack's `error` codes is classified: anything not known to be auth, rate or server is the request's fault. */
export function slackErrorOutcome(error: string): ProviderOutcome {
  if (authErrors.has(error)) return "auth_failed";
  if (rateLimitErrors.has(error)) return "rate_limited";
  if (serverErrors.has(error)) return "rejected_server_error";
  return "rejected_client_error";
}

/** The `error` of Slack's `{"ok": false, "error": "..."}` answer, if the body is one. */
export function slackErrorOf(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  const { ok, error } = json as { ok?: unknown; error?: unknown };
  return ok === false ? (typeof error === "string" && error !== "" ? error.slice(0, 100) : "unknown_error") : undefined;
}

/**
 * The facts of a Web API call as Slack means them. Slack answers its errors with HTTP 200 and `{"ok": false,
 * "error": code}`, so the code decides (`providerOutcome`); a 429 (with Retry-After) and a 5xx keep their status;
 * a 2xx that is not `{"ok": true}` did not say the message was posted and is retried as Slack's failure.
 */
export function readSlackAnswer(facts: AttemptFacts, json: unknown): AttemptFacts {
  const status = facts.httpStatus;
  if (status === undefined) return facts;
  const error = slackErrorOf(json);
  if (status === 429 || status >= 500) {
    return { ...facts, message: `Slack answered ${status}${error === undefined ? "" : ` (${error})`}` };
  }
  const ok = typeof json === "object" && json !== null && (json as { ok?: unknown }).ok === true;
  if (ok && status >= 200 && status < 300) return facts;
  if (error !== undefined) {
    const hint = hints[error];
    return {
      ...facts,
      providerOutcome: slackErrorOutcome(error),
      message: `Slack answered "${error}"${hint === undefined ? "" : `: ${hint}`}`,
    };
  }
  if (status >= 200 && status < 300) {
    return { ...facts, providerOutcome: "rejected_server_error", message: `Slack answered ${status} without {"ok": true}` };
  }
  return { ...facts, message: `Slack answered ${status}` };
}
