import type { RequestHandler } from "express";
import { sendError } from "./errorHandler.js";

/**
 * HTTP/1.1 requires a `Host` header (RFC 9112 §3.2). Node's own check answers a bare 400 with no body; the
 * server turns it off (`createHttpServer`) and this answers in the error envelope instead.
 */
export function requireHost(): RequestHandler {
  return (req, res, next) => {
    if (req.headers.host !== undefined || req.httpVersion !== "1.1") return next();
    res.set("Connection", "close");
    sendError(res, { status: 400, name: "BadRequest", message: "The Host header is required." });
  };
}
