import type { RequestHandler } from "express";
import { sendError } from "./errorHandler.js";

/**
 * Answers 503 if a handler has not responded within `ms` (the database timeout): whatever the database
 * does, a client never waits longer. A late handler's own response is then dropped by the error handler.
 */
export function deadline(ms: number): RequestHandler {
  return (_req, res, next) => {
    const timer = setTimeout(() => {
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
