import type { ListWorkspaceEventTypesData, ListWorkspacesData, WorkspaceInput, WorkspaceUpdate } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { Router } from "express";
import { pageParams } from "../http/cursorPage.js";
import { callerHandler, machineHandler } from "../http/machineHandler.js";
import type { CatalogKind } from "./workspaceCatalog.repository.js";
import { listWorkspaceCatalog } from "./workspaceCatalog.service.js";
import { createWorkspace, getWorkspace, listWorkspacePage, rotatePublishableKey, updateWorkspace } from "./workspaces.service.js";

export function workspacesRouter(deps: { readonly db: Db }): Router {
  const router = Router();
  const { db } = deps;

  router.get(
    "/api/v1/workspaces",
    machineHandler((organizationId, req) => {
      const query = req.query as NonNullable<ListWorkspacesData["query"]> & { active?: boolean | string };
      return listWorkspacePage(
        db,
        organizationId,
        pageParams(query),
        query.active === undefined ? undefined : String(query.active) === "true",
      );
    }),
  );
  router.post(
    "/api/v1/workspaces",
    machineHandler((organizationId, req) => {
      const body = req.body as WorkspaceInput;
      return createWorkspace(db, organizationId, body.name, body.description ?? null);
    }, 201),
  );
  router.get(
    "/api/v1/workspaces/:id",
    callerHandler<"id">((organizationId, req) => getWorkspace(db, organizationId, req.params.id)),
  );
  router.put(
    "/api/v1/workspaces/:id",
    machineHandler<"id">((organizationId, req) => updateWorkspace(db, organizationId, req.params.id, req.body as WorkspaceUpdate)),
  );
  // The catalog: event names and resources seen, with counts (one handler, two kinds).
  const catalog = (kind: CatalogKind) =>
    machineHandler<"id">((organizationId, req) =>
      listWorkspaceCatalog(
        db,
        organizationId,
        req.params.id,
        kind,
        pageParams(req.query as NonNullable<ListWorkspaceEventTypesData["query"]>),
      ),
    );
  router.get("/api/v1/workspaces/:id/event-types", catalog("event"));
  router.get("/api/v1/workspaces/:id/resources", catalog("resource"));
  router.post(
    "/api/v1/workspaces/:id/publishable-key/rotate",
    machineHandler<"id">((organizationId, req) => rotatePublishableKey(db, organizationId, req.params.id), 201),
  );

  return router;
}
