import type { RequestHandler, Response } from "express";
import { sendError } from "./errorHandler.js";

export interface LoadSheddingOptions {
  /** Most ingestion requests admitted and not yet answered; 0 = no limit. */
  readonly maxInProgress: number;
  /** Shed while the oldest batch waiting to be written has waited longer than this (ms); 0 = never. */
  readonly maxQueueWaitMs: number;
  /** How long the oldest batch waiting to be written has waited, in ms (0 when none waits). */
  readonly queueWaitMs: () => number;
  /** Told of every request shed, with the reason. */
  readonly onShed?: (reason: ShedReason) => void;
}

export type ShedReason = "in_progress" | "queue_wait";

/** Admission control for the ingestion endpoints: two middlewares sharing one count (`shedLoad`). */
export interface LoadShedder {
  /**
   * Before authentication: answers 503 at once while the server is full, holding nothing and looking nothing
   * up, so that an overloaded server spends no database lookup on a request it would shed anyway. Never
   * admits: an unknown caller cannot take a slot.
   */
  readonly shedIfFull: RequestHandler;
  /** After authentication: admits a known caller's request into a slot (until its answer), or sheds it. */
  readonly admit: RequestHandler;
}

/**
 * Admission control for the ingestion endpoints, in front of body parsing: when the server already holds all
 * it can serve within its timeout, a new request is answered 503 with `Retry-After: 1` at once, its body never
 * parsed (Node discards it unread; the connection stays usable). Two signals, either enough:
 * - requests in progress (admitted, not yet answered) at `maxInProgress`: bounds the memory held in
 *   bodies and the work queued in front of the event loop;
 * - the write queue's oldest batch waiting longer than `maxQueueWaitMs`: the database is behind (overload,
 *   or unavailable), so a new batch would wait at least as long.
 * Only authenticated requests are admitted (take a slot), so callers the server does not know cannot fill
 * it. Without it, requests beyond capacity are all taken in, parsed and validated, and then wait for the
 * database timeout: client latency and memory grow for as long as the overload lasts (docs/reliability.md).
 */
export function shedLoad(options: LoadSheddingOptions): LoadShedder {
  let inProgress = 0;
  const reasonToShed = (): ShedReason | undefined =>
    options.maxInProgress > 0 && inProgress >= options.maxInProgress
      ? "in_progress"
      : options.maxQueueWaitMs > 0 && options.queueWaitMs() > options.maxQueueWaitMs
        ? "queue_wait"
        : undefined;
  const shed = (res: Response, reason: ShedReason) => {
    options.onShed?.(reason);
    sendError(res, {
      status: 503,
      name: "ServiceUnavailable",
      message: "The server is at capacity; retry after the delay in Retry-After.",
      headers: { "Retry-After": "1" },
    });
  };
  return {
    shedIfFull: (_req, res, next) => {
      const reason = reasonToShed();
      if (reason === undefined) next();
      else shed(res, reason);
    },
    admit: (_req, res, next) => {
      const reason = reasonToShed();
      if (reason !== undefined) {
        shed(res, reason);
        return;
      }
      inProgress += 1;
      let done = false;
      const release = () => {
        if (done) return;
        done = true;
        inProgress -= 1;
      };
      res.once("finish", release);
      res.once("close", release);
      next();
    },
  };
}
