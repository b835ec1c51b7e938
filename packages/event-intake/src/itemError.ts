/** One validation detail, as the error envelope's `data` carries it. */
export interface ErrorDetail {
  readonly param: string;
  readonly msg: string;
}

/**
 * Why one item was rejected. `status` is the HTTP status this item alone would have been answered
 * with; the bulk endpoint turns it into the record's `message` (the reason phrase).
 */
export interface ItemError {
  readonly status: 400 | 403 | 409 | 422;
  readonly name: string;
  readonly message: string;
  readonly data?: ErrorDetail[];
}

export const reasonPhrases: Readonly<Record<ItemError["status"], string>> = Object.freeze({
  400: "Bad Request",
  403: "Forbidden",
  409: "Conflict",
  422: "Unprocessable Entity",
});

export function validationError(data: ErrorDetail[]): ItemError {
  return { status: 400, name: "ValidationError", message: "The event is invalid.", data };
}
