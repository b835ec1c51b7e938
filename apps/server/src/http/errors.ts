import type { ErrorDetail, ItemError } from "@switchyard/event-intake";

/**
 * The errors a handler throws on purpose. `name` is the envelope's `error.name`; `errorHandler.ts` is the
 * one place that turns these (and every other error) into responses.
 */
export abstract class ApiError extends Error {
  abstract readonly status: number;
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

export class PayloadTooLargeError extends ApiError {
  override readonly name = "PayloadTooLarge";
  readonly status = 413;
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
