import type { BulkResult, EventCreated } from "@switchyard/client";
import { assembleBulkResult } from "@switchyard/event-intake";
import { Router } from "express";
import { principalOf } from "../http/authenticate.js";
import { ItemRejectedError } from "../http/errors.js";
import { type IngestDeps, ingestEvents } from "./ingestEvents.js";

export function eventsRouter(deps: IngestDeps): Router {
  const router = Router();

  router.post("/api/v1/events", async (req, res) => {
    const [outcome] = await ingestEvents(deps, principalOf(res), [req.body], "body");
    if (outcome === undefined) throw new Error("ingestEvents answered no item");
    if (!outcome.ok) throw new ItemRejectedError(outcome.error);
    res.status(201).json({ event: outcome.event } satisfies EventCreated);
  });

  router.post("/api/v1/events/bulk", async (req, res) => {
    // The validator has checked that the body is an array of 1 to maxBatchItems items.
    const outcomes = await ingestEvents(deps, principalOf(res), req.body as unknown[]);
    const { status, body } = assembleBulkResult(outcomes);
    res.status(status).json(body satisfies BulkResult);
  });

  return router;
}
