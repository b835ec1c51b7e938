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

/** An ApiError class whose every instance has this `name` (the envelope's `error.name`) and HTTP `status`. */
function apiError<const Name extends string, const Status extends number>(name: Name, status: Status) {
  return class extends ApiError {
    override readonly name = name;
    readonly status = status;
  };
}

export class BadRequestError extends apiError("BadRequest", 400) {}
export class ValidationError extends apiError("ValidationError", 400) {}
export class UnauthorizedError extends apiError("Unauthorized", 401) {}
export class ForbiddenError extends apiError("Forbidden", 403) {}
export class NotFoundError extends apiError("NotFound", 404) {}
export class ConflictError extends apiError("Conflict", 409) {}
export class PayloadTooLargeError extends apiError("PayloadTooLarge", 413) {}
export class UnprocessableEntityError extends apiError("UnprocessableEntity", 422) {}
export class TooEarlyError extends apiError("TooEarly", 425) {}
export class BadGatewayError extends apiError("BadGateway", 502) {}
export class ServiceUnavailableError extends apiError("ServiceUnavailable", 503) {}

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
