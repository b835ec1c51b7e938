import type { ListWorkspacesData, WorkspaceInput } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { Router } from "express";
import { pageParams } from "../http/cursorPage.js";
import { callerHandler, machineHandler } from "../http/machineHandler.js";
import { createWorkspace, getWorkspace, listWorkspacePage, rotatePublishableKey, updateWorkspace } from "./workspaces.service.js";

export function workspacesRouter(deps: { readonly db: Db }): Router {
  const router = Router();
  const { db } = deps;

  router.get(
    "/api/v1/workspaces",
    machineHandler((organizationId, req) =>
      listWorkspacePage(db, organizationId, pageParams(req.query as NonNullable<ListWorkspacesData["query"]>)),
    ),
  );
  router.post(
    "/api/v1/workspaces",
    machineHandler((organizationId, req) => createWorkspace(db, organizationId, (req.body as WorkspaceInput).name), 201),
  );
  router.get(
    "/api/v1/workspaces/:id",
    callerHandler<"id">((organizationId, req) => getWorkspace(db, organizationId, req.params.id)),
  );
  router.put(
    "/api/v1/workspaces/:id",
    machineHandler<"id">((organizationId, req) => updateWorkspace(db, organizationId, req.params.id, (req.body as WorkspaceInput).name)),
  );
  router.post(
    "/api/v1/workspaces/:id/publishable-key/rotate",
    machineHandler<"id">((organizationId, req) => rotatePublishableKey(db, organizationId, req.params.id), 201),
  );

  return router;
}
