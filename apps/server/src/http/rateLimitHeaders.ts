import type { RateLimitState } from "../ingest/workspaceRateLimiter.js";

/**
 * The `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (delta seconds) headers of the IETF
 * RateLimit header fields draft; none when limiting is off.
 */
export function rateLimitHeaders(state: RateLimitState | undefined): Record<string, string> {
  if (state === undefined) return {};
  return {
    "RateLimit-Limit": String(state.limit),
    "RateLimit-Remaining": String(state.remaining),
    "RateLimit-Reset": String(state.resetSeconds),
  };
}
