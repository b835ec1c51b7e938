import type { RequestHandler, Response } from "express";
import { sendError } from "./errorHandler.js";

/**
 * Answers 503 if a handler has not responded within `ms` (the database timeout): whatever the database
 * does, a client never waits longer. A late handler's own response is then dropped by the error handler.
 * The request's deadline signal (`deadlineSignalOf`) aborts at the same moment, so that work not yet
 * started for it (a batch waiting for its turn to be written) is dropped instead of done for nobody.
 */
export function deadline(ms: number): RequestHandler {
  return (_req, res, next) => {
    const expired = new AbortController();
    res.locals.deadline = expired.signal;
    const timer = setTimeout(() => {
      expired.abort(new Error(`the request's deadline (${ms} ms) passed before its work began`));
      if (!res.headersSent) {
        sendError(res, {
          status: 503,
          name: "ServiceUnavailable",
          message: "The request timed out waiting for the database; retry later.",
        });
      }
    }, ms);
    res.once("finish", () => clearTimeout(timer));
    res.once("close", () => clearTimeout(timer));
    next();
  };
}

/** Aborted once the deadline has answered the request; undefined outside the API. */
export function deadlineSignalOf(res: Response): AbortSignal | undefined {
  return res.locals.deadline as AbortSignal | undefined;
}
