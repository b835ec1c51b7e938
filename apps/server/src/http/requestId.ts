import { randomUUID } from "node:crypto";
import type { RequestHandler, Response } from "express";

/** What an incoming `X-Request-Id` may be to be kept: short, and safe to echo in a header and a log line. */
const acceptable = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id: the caller's `X-Request-Id` when it is acceptable (up to 128 of
 * `A-Z a-z 0-9 . _ : -`), else a new UUID. It is echoed in the `X-Request-Id` response header (on errors
 * too) and logged with the request.
 */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers["x-request-id"];
    const id = typeof incoming === "string" && acceptable.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader("X-Request-Id", id);
    next();
  };
}

/** The id `requestId()` gave this request (undefined before it ran). */
export function requestIdOf(res: Response): string | undefined {
  return res.locals.requestId as string | undefined;
}
