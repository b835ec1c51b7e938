import type { ListEventsData, ListWorkspaceEventsData } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { Router } from "express";
import { machinePrincipalOf } from "../auth/authenticate.js";
import type { EventFilter } from "./eventSummaries.repository.js";
import { getEventDetail, getEventPayload, listAttempts, listEventPage } from "./history.service.js";

/** The operator's reads: events, their deliveries and attempts (machine JWT only). Commands are in `commands/`. */
export function historyRouter(deps: { readonly db: Db }): Router {
  const router = Router();
  const { db } = deps;

  router.get("/api/v1/events", async (req, res) => {
    // The validator has checked the query against the spec.
    const query = req.query as NonNullable<ListEventsData["query"]>;
    const { organizationId } = machinePrincipalOf(res);
    res.json(await listEventPage(db, organizationId, { ...filterOf(query), workspaceId: query.workspace }, pageOf(query)));
  });

  router.get("/api/v1/workspaces/:id/events", async (req, res) => {
    const query = req.query as NonNullable<ListWorkspaceEventsData["query"]>;
    const { organizationId } = machinePrincipalOf(res);
    res.json(await listEventPage(db, organizationId, { ...filterOf(query), workspaceId: req.params.id }, pageOf(query)));
  });

  router.get("/api/v1/events/:id", async (req, res) => {
    res.json(await getEventDetail(db, machinePrincipalOf(res).organizationId, req.params.id));
  });

  router.get("/api/v1/events/:id/payload", async (req, res) => {
    res.json(await getEventPayload(db, machinePrincipalOf(res).organizationId, req.params.id));
  });

  router.get("/api/v1/events/:id/rules/:ruleId/attempts", async (req, res) => {
    res.json(await listAttempts(db, machinePrincipalOf(res).organizationId, req.params.id, req.params.ruleId));
  });

  return router;
}

type EventQuery = NonNullable<ListWorkspaceEventsData["query"]>;

function filterOf(query: EventQuery): EventFilter {
  return { event: query.event, status: query.status, resource: query.resource, resourceId: query.resource_id };
}

function pageOf(query: EventQuery): { limit: number; cursor: string | undefined } {
  return { limit: Number(query.limit ?? 50), cursor: query.cursor };
}
