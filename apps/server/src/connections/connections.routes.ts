import type { ConnectionInput, ConnectionUpdate, ListConnectionsData } from "@switchyard/client";
import { Router } from "express";
import { machinePrincipalOf } from "../auth/authenticate.js";
import {
  type ConnectionDeps,
  createConnection,
  deleteConnection,
  getConnection,
  listConnectionPage,
  rotateConnectionSigningSecret,
  updateConnectionConfig,
} from "./connections.service.js";

type ConnectionQuery = NonNullable<ListConnectionsData["query"]>;

export function connectionsRouter(deps: ConnectionDeps): Router {
  const router = Router();
  const { db } = deps;
  // The validator has checked every query, path and body against the spec.
  const page = (query: ConnectionQuery) => ({ limit: Number(query.limit ?? 50), cursor: query.cursor });

  router.get("/api/v1/connections", async (req, res) => {
    const query = req.query as ConnectionQuery;
    res.json(await listConnectionPage(db, machinePrincipalOf(res).organizationId, { ...page(query), workspaceId: query.workspace }));
  });

  router.get("/api/v1/workspaces/:id/connections", async (req, res) => {
    res.json(
      await listConnectionPage(db, machinePrincipalOf(res).organizationId, {
        ...page(req.query as ConnectionQuery),
        workspaceId: req.params.id,
      }),
    );
  });

  router.post("/api/v1/connections", async (req, res) => {
    res.status(201).json(await createConnection(deps, machinePrincipalOf(res).organizationId, req.body as ConnectionInput));
  });

  router.get("/api/v1/connections/:id", async (req, res) => {
    res.json(await getConnection(db, machinePrincipalOf(res).organizationId, req.params.id));
  });

  router.put("/api/v1/connections/:id", async (req, res) => {
    res.json(await updateConnectionConfig(deps, machinePrincipalOf(res).organizationId, req.params.id, req.body as ConnectionUpdate));
  });

  router.delete("/api/v1/connections/:id", async (req, res) => {
    await deleteConnection(db, machinePrincipalOf(res).organizationId, req.params.id);
    res.status(204).end();
  });

  router.post("/api/v1/connections/:id/signing-secret/rotate", async (req, res) => {
    res.status(201).json(await rotateConnectionSigningSecret(deps, machinePrincipalOf(res).organizationId, req.params.id));
  });

  return router;
}
