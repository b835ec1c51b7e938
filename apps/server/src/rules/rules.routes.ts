import type { ListRulesData, RuleInput } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { Router } from "express";
import { machineHandler } from "../http/machineHandler.js";
import { routeWorkspaceScopedList } from "../http/workspaceScopedList.js";
import { createRule, deleteRule, getRule, listRulePage } from "./rules.service.js";

type RuleQuery = NonNullable<ListRulesData["query"]>;

export function rulesRouter(deps: { readonly db: Db }): Router {
  const router = Router();
  const { db } = deps;

  routeWorkspaceScopedList<RuleQuery>(router, "rules", (organizationId, query, page) =>
    listRulePage(db, organizationId, { ...page, event: query.event, resource: query.resource, resourceId: query.resource_id }),
  );
  router.post(
    "/api/v1/rules",
    machineHandler((organizationId, req, createdBy) => createRule(db, organizationId, req.body as RuleInput, createdBy), 201),
  );
  router.get(
    "/api/v1/rules/:id",
    machineHandler<"id">((organizationId, req) => getRule(db, organizationId, req.params.id)),
  );
  router.delete(
    "/api/v1/rules/:id",
    machineHandler<"id">((organizationId, req) => deleteRule(db, organizationId, req.params.id)),
  );

  return router;
}
