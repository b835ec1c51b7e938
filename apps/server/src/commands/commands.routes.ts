import type { ReplayInput } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { Router } from "express";
import { callerHandler, machineHandler } from "../http/machineHandler.js";
import { cancelDelivery, cancelEvent, replayFailedDeliveries, retryDelivery } from "./commands.service.js";

/** The operator's commands: retry and cancel a delivery, cancel an event, replay failed deliveries (machine JWT only). */
export function commandsRouter(deps: { readonly db: Db }): Router {
  const router = Router();
  const { db } = deps;

  router.post(
    "/api/v1/events/:id/cancel",
    machineHandler<"id">((organizationId, req) => cancelEvent(db, organizationId, req.params.id)),
  );
  router.post(
    "/api/v1/events/:id/rules/:ruleId/retry",
    callerHandler<"id" | "ruleId">((organizationId, req) => retryDelivery(db, organizationId, req.params.id, req.params.ruleId)),
  );
  router.post(
    "/api/v1/events/:id/rules/:ruleId/cancel",
    callerHandler<"id" | "ruleId">((organizationId, req) => cancelDelivery(db, organizationId, req.params.id, req.params.ruleId)),
  );
  router.post(
    "/api/v1/replays",
    machineHandler((organizationId, req) => replayFailedDeliveries(db, organizationId, req.body as ReplayInput)),
  );

  return router;
}
