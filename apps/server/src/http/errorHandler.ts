import { STATUS_CODES } from "node:http";
import { isDatabaseUnavailable } from "@switchyard/db";
import type { ErrorDetail } from "@switchyard/event-intake";
import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import type { Logger } from "../logger.js";
import { ApiError } from "./errors.js";
import { requestIdOf } from "./requestId.js";

export interface ErrorResponse {
  readonly status: number;
  readonly name: string;
  readonly message: string;
  readonly data?: ErrorDetail[] | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * Turns any error into the error envelope (`{"message": <reason phrase>, "error": {"name", "message", "data"?}}`,
 * `data` only for validation details): ours, express-openapi-validator's, the body parser's, and PostgreSQL's
 * (503 when the database cannot serve, 500 otherwise). The only such place.
 */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof ApiError) {
    return { status: error.status, name: error.name, message: error.message, data: error.data, headers: error.headers };
  }
  const e = error as { status?: unknown; statusCode?: unknown; type?: unknown; errors?: unknown; expose?: unknown; message?: unknown };
  if (typeof e.type === "string" && typeof (e.status ?? e.statusCode) === "number") return bodyParserError(e.type, error as Error);
  if (typeof e.status === "number" && Array.isArray(e.errors)) return validatorError(e.status, e.errors as ValidatorDetail[]);
  // A body that does not inflate (corrupt gzip, deflate or br) arrives as zlib's own error, which the body
  // parser marks as the client's fault (http-errors' status 400 and `expose`) but gives no `type`.
  if (e.status === 400 && e.expose === true) return bodyParserError(undefined, error as Error);
  if (isDatabaseUnavailable(error)) {
    return { status: 503, name: "ServiceUnavailable", message: "The database is unavailable; retry later." };
  }
  return { status: 500, name: "InternalServerError", message: "An unexpected error occurred." };
}

export function sendError(res: Response, response: ErrorResponse): void {
  const { name, message, data } = response;
  if (response.headers !== undefined) res.set(response.headers);
  res.status(response.status).json({
    message: STATUS_CODES[response.status] ?? "Error",
    error: data === undefined ? { name, message } : { name, message, data },
  });
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    // A response already went out (the deadline answered 503 first): nothing more can be said. What comes
    // here is the handler finishing late (its answer refused) or failing late. Not a 500, since the client got
    // the 503; and its batch may have been committed, so a retry with the same idempotency keys gets `duplicate`.
    if (res.headersSent) {
      log.warn(
        { requestId: requestIdOf(res), err: error, method: req.method, path: req.path },
        "handler finished after the answer was sent",
      );
      return;
    }
    const response = toErrorResponse(error);
    // Refused before its body was read (unauthenticated, no such route): close the connection after the
    // answer rather than read and discard what the caller still sends.
    if (!req.complete && (req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined)) {
      res.set("Connection", "close");
    }
    if (response.status >= 500)
      log.error({ requestId: requestIdOf(res), err: error, method: req.method, path: req.path, status: response.status }, "request failed");
    sendError(res, response);
  };
}

/** For paths outside the API (the validator answers unknown paths inside it). */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, { status: 404, name: "NotFound", message: `No route for ${req.method} ${req.path}.` });
};

interface ValidatorDetail {
  readonly path?: string;
  readonly message?: string;
}

function validatorError(status: number, details: readonly ValidatorDetail[]): ErrorResponse {
  const data = details.map((d) => ({ param: paramOf(d.path), msg: d.message ?? "is invalid" }));
  switch (status) {
    case 400:
      return { status: 400, name: "BadRequest", message: "The request is invalid.", data };
    case 404:
    case 405:
      // The API answers no 405 (not among its status codes): an unsupported method on a path is "no such route".
      return { status: 404, name: "NotFound", message: "No such route." };
    case 413:
      return { status: 413, name: "PayloadTooLarge", message: "The request body is too large." };
    case 415:
      return { status: 400, name: "BadRequest", message: "Content-Type must be application/json.", data };
    default:
      return { status: 500, name: "InternalServerError", message: "An unexpected error occurred." };
  }
}

/** `/body/event` → `event`, `/body/3/event` → `3.event`, `/query/limit` → `limit`, `/body` → `body`. */
function paramOf(path: string | undefined): string {
  if (path === undefined || path === "") return "body";
  const parts = path.replace(/^\./, "/").split(/[/.]/).filter(Boolean);
  if (parts.length <= 1) return parts[0] ?? "body";
  return parts.slice(1).join(".");
}

function bodyParserError(type: string | undefined, error: Error): ErrorResponse {
  switch (type) {
    case "entity.too.large":
      return {
        status: 413,
        name: "PayloadTooLarge",
        message: `The request body is larger than ${(error as { limit?: number }).limit ?? "the limit of"} bytes.`,
      };
    case "entity.parse.failed":
      return { status: 400, name: "BadRequest", message: "The request body is not valid JSON." };
    case "encoding.unsupported":
    case "charset.unsupported":
      return { status: 400, name: "BadRequest", message: error.message };
    default:
      return { status: 400, name: "BadRequest", message: "The request body could not be read." };
  }
}
