import type { ListRulesData, RuleInput } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { Router } from "express";
import { machinePrincipalOf } from "../auth/authenticate.js";
import { createRule, deleteRule, getRule, listRulePage } from "./rules.service.js";

type RuleQuery = NonNullable<ListRulesData["query"]>;

export function rulesRouter(deps: { readonly db: Db }): Router {
  const router = Router();
  const { db } = deps;
  // The validator has checked every query, path and body against the spec.
  const filters = (query: RuleQuery) => ({
    limit: Number(query.limit ?? 50),
    cursor: query.cursor,
    event: query.event,
    resource: query.resource,
    resourceId: query.resource_id,
  });

  router.get("/api/v1/rules", async (req, res) => {
    const query = req.query as RuleQuery;
    res.json(await listRulePage(db, machinePrincipalOf(res).organizationId, { ...filters(query), workspaceId: query.workspace }));
  });

  router.get("/api/v1/workspaces/:id/rules", async (req, res) => {
    res.json(
      await listRulePage(db, machinePrincipalOf(res).organizationId, { ...filters(req.query as RuleQuery), workspaceId: req.params.id }),
    );
  });

  router.post("/api/v1/rules", async (req, res) => {
    res.status(201).json(await createRule(db, machinePrincipalOf(res).organizationId, req.body as RuleInput));
  });

  router.get("/api/v1/rules/:id", async (req, res) => {
    res.json(await getRule(db, machinePrincipalOf(res).organizationId, req.params.id));
  });

  router.delete("/api/v1/rules/:id", async (req, res) => {
    await deleteRule(db, machinePrincipalOf(res).organizationId, req.params.id);
    res.status(204).end();
  });

  return router;
}
