import type { ListWorkspacesData, WorkspaceInput } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { Router } from "express";
import { machinePrincipalOf } from "../auth/authenticate.js";
import { createWorkspace, getWorkspace, listWorkspacePage, rotatePublishableKey, updateWorkspace } from "./workspaces.service.js";

export function workspacesRouter(deps: { readonly db: Db }): Router {
  const router = Router();
  const { db } = deps;

  router.get("/api/v1/workspaces", async (req, res) => {
    // The validator has checked and coerced the query against the spec.
    const query = req.query as NonNullable<ListWorkspacesData["query"]>;
    const { organizationId } = machinePrincipalOf(res);
    res.json(await listWorkspacePage(db, organizationId, { limit: Number(query.limit ?? 50), cursor: query.cursor }));
  });

  router.post("/api/v1/workspaces", async (req, res) => {
    const { name } = req.body as WorkspaceInput;
    res.status(201).json(await createWorkspace(db, machinePrincipalOf(res).organizationId, name));
  });

  router.get("/api/v1/workspaces/:id", async (req, res) => {
    res.json(await getWorkspace(db, machinePrincipalOf(res).organizationId, req.params.id));
  });

  router.put("/api/v1/workspaces/:id", async (req, res) => {
    const { name } = req.body as WorkspaceInput;
    res.json(await updateWorkspace(db, machinePrincipalOf(res).organizationId, req.params.id, name));
  });

  router.post("/api/v1/workspaces/:id/publishable-key/rotate", async (req, res) => {
    res.status(201).json(await rotatePublishableKey(db, machinePrincipalOf(res).organizationId, req.params.id));
  });

  return router;
}
