import type { ListEventsData } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { Router } from "express";
import { callerHandler } from "../http/machineHandler.js";
import { routeWorkspaceScopedList } from "../http/workspaceScopedList.js";
import type { EventFilter } from "./eventSummaries.repository.js";
import { getEventDetail, getEventPayload, listAttempts, listEventPage } from "./history.service.js";

type EventQuery = NonNullable<ListEventsData["query"]>;

/** The operator's reads: events, their deliveries and attempts (machine JWT only). Commands are in `commands/`. */
export function historyRouter(deps: { readonly db: Db }): Router {
  const router = Router();
  const { db } = deps;

  routeWorkspaceScopedList<EventQuery>(router, "events", (organizationId, query, page) =>
    listEventPage(db, organizationId, { ...filterOf(query), workspaceId: page.workspaceId }, page),
  );
  router.get(
    "/api/v1/events/:id",
    callerHandler<"id">((organizationId, req) => getEventDetail(db, organizationId, req.params.id)),
  );
  router.get(
    "/api/v1/events/:id/payload",
    callerHandler<"id">((organizationId, req) => getEventPayload(db, organizationId, req.params.id)),
  );
  router.get(
    "/api/v1/events/:id/rules/:ruleId/attempts",
    callerHandler<"id" | "ruleId">((organizationId, req) => listAttempts(db, organizationId, req.params.id, req.params.ruleId)),
  );

  return router;
}

function filterOf(query: EventQuery): EventFilter {
  return { event: query.event, status: query.status, resource: query.resource, resourceId: query.resource_id };
}
