import type { BulkResult, EventCreated } from "@switchyard/client";
import { assembleBulkResult } from "@switchyard/event-intake";
import { Router } from "express";
import { principalOf } from "../auth/authenticate.js";
import { deadlineSignalOf } from "../http/deadline.js";
import { ItemRejectedError } from "../http/errors.js";
import { rateLimitHeaders } from "../http/rateLimitHeaders.js";
import { countIngested, type Metrics } from "../operations/metrics.js";
import { type IngestDeps, ingestEvents } from "./ingestEvents.js";

/**
 * `POST /events` and `POST /events/bulk`, with a publishable key or a machine token. An event's way in:
 * `ingestEvents` validates the items, plans what to store (`planIngest`), takes them from the workspace's
 * budget (`workspaceRateLimiter`) and writes them with their routing work in one statement shared with
 * concurrent requests (`eventWriter`, a group commit of `@switchyard/db`'s `insertEvents`); the routing wake (`routingWake`)
 * then starts the worker's `route` task, which writes the deliveries. Each item is answered in input order.
 */
export function ingestRouter(deps: IngestDeps & { readonly metrics: Pick<Metrics, "eventsIngested"> }): Router {
  const router = Router();

  router.post("/api/v1/events", async (req, res) => {
    const { outcomes, rateLimit } = await ingestEvents(deps, principalOf(res), [req.body], {
      root: "body",
      headerKey: req.get("idempotency-key"),
      signal: deadlineSignalOf(res),
    });
    countIngested(deps.metrics, outcomes);
    const [outcome] = outcomes;
    if (outcome === undefined) throw new Error("ingestEvents answered no item");
    if (!outcome.ok) throw new ItemRejectedError(outcome.error);
    res.set(rateLimitHeaders(rateLimit));
    res.status(201).json({ event: outcome.event } satisfies EventCreated);
  });

  router.post("/api/v1/events/bulk", async (req, res) => {
    // The validator has checked that the body is an array of 1 to maxBatchItems items.
    const { outcomes, rateLimit } = await ingestEvents(deps, principalOf(res), req.body as unknown[], {
      bulkHeaderKey: req.get("idempotency-key"),
      signal: deadlineSignalOf(res),
    });
    countIngested(deps.metrics, outcomes);
    const { status, body } = assembleBulkResult(outcomes);
    res.set(rateLimitHeaders(rateLimit));
    res.status(status).json(body satisfies BulkResult);
  });

  return router;
}
