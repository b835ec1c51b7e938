import type { ReplayInput } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { Router } from "express";
import { machinePrincipalOf } from "../auth/authenticate.js";
import { cancelDelivery, cancelEvent, replayFailedDeliveries, retryDelivery } from "./commands.service.js";

/** The operator's commands: retry and cancel a delivery, cancel an event, replay failed deliveries (machine JWT only). */
export function commandsRouter(deps: { readonly db: Db }): Router {
  const router = Router();
  const { db } = deps;

  router.post("/api/v1/events/:id/cancel", async (req, res) => {
    res.json(await cancelEvent(db, machinePrincipalOf(res).organizationId, req.params.id));
  });

  router.post("/api/v1/events/:id/rules/:ruleId/retry", async (req, res) => {
    res.json(await retryDelivery(db, machinePrincipalOf(res).organizationId, req.params.id, req.params.ruleId));
  });

  router.post("/api/v1/events/:id/rules/:ruleId/cancel", async (req, res) => {
    res.json(await cancelDelivery(db, machinePrincipalOf(res).organizationId, req.params.id, req.params.ruleId));
  });

  router.post("/api/v1/replays", async (req, res) => {
    // The validator has checked the body against the spec.
    res.json(await replayFailedDeliveries(db, machinePrincipalOf(res).organizationId, req.body as ReplayInput));
  });

  return router;
}
