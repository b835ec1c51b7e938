import type { ErrorDetail, ItemError } from "@switchyard/event-intake";
import type { RateLimitState } from "../ingest/workspaceRateLimiter.js";
import { rateLimitHeaders } from "./rateLimitHeaders.js";

/**
 * The errors a handler throws on purpose. `name` is the envelope's `error.name`; `errorHandler.ts` is the
 * one place that turns these (and every other error) into responses.
 */
export abstract class ApiError extends Error {
  abstract readonly status: number;
  /** Headers the error response carries besides the envelope (e.g. `Retry-After`). */
  readonly headers: Readonly<Record<string, string>> = {};
  constructor(
    message: string,
    readonly data?: ErrorDetail[],
  ) {
    super(message);
  }
}

export class BadRequestError extends ApiError {
  override readonly name = "BadRequest";
  readonly status = 400;
}

export class ValidationError extends ApiError {
  override readonly name = "ValidationError";
  readonly status = 400;
}

export class UnauthorizedError extends ApiError {
  override readonly name = "Unauthorized";
  readonly status = 401;
}

export class ForbiddenError extends ApiError {
  override readonly name = "Forbidden";
  readonly status = 403;
}

export class NotFoundError extends ApiError {
  override readonly name = "NotFound";
  readonly status = 404;
}

export class ConflictError extends ApiError {
  override readonly name = "Conflict";
  readonly status = 409;
}

export class UnprocessableEntityError extends ApiError {
  override readonly name = "UnprocessableEntity";
  readonly status = 422;
}

export class PayloadTooLargeError extends ApiError {
  override readonly name = "PayloadTooLarge";
  readonly status = 413;
}

export class TooEarlyError extends ApiError {
  override readonly name = "TooEarly";
  readonly status = 425;
}

export class TooManyRequestsError extends ApiError {
  override readonly name = "TooManyRequests";
  readonly status = 429;
  override readonly headers: Readonly<Record<string, string>>;
  constructor(
    readonly workspace: string,
    readonly state: RateLimitState,
  ) {
    super(
      `Rate limit exceeded for workspace ${workspace}: ${state.remaining} of ${state.limit} events left in this window; retry after ${state.resetSeconds} s.`,
    );
    this.headers = { ...rateLimitHeaders(state), "Retry-After": String(state.resetSeconds) };
  }
}

export class ServiceUnavailableError extends ApiError {
  override readonly name = "ServiceUnavailable";
  readonly status = 503;
}

/** A single-event request whose one item was rejected: answered exactly as its bulk record would say. */
export class ItemRejectedError extends ApiError {
  override readonly name: string;
  readonly status: number;
  constructor(item: ItemError) {
    super(item.message, item.data);
    this.name = item.name;
    this.status = item.status;
  }
}
