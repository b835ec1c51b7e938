import type { ConnectionInput, ConnectionUpdate, ListConnectionsData } from "@switchyard/client";
import { Router } from "express";
import { machineHandler } from "../http/machineHandler.js";
import { routeWorkspaceScopedList } from "../http/workspaceScopedList.js";
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

  routeWorkspaceScopedList<ConnectionQuery>(router, "connections", (organizationId, _query, page) =>
    listConnectionPage(db, organizationId, page),
  );
  router.post(
    "/api/v1/connections",
    machineHandler((organizationId, req) => createConnection(deps, organizationId, req.body as ConnectionInput), 201),
  );
  router.get(
    "/api/v1/connections/:id",
    machineHandler<"id">((organizationId, req) => getConnection(db, organizationId, req.params.id)),
  );
  router.put(
    "/api/v1/connections/:id",
    machineHandler<"id">((organizationId, req) =>
      updateConnectionConfig(deps, organizationId, req.params.id, req.body as ConnectionUpdate),
    ),
  );
  router.delete(
    "/api/v1/connections/:id",
    machineHandler<"id">((organizationId, req) => deleteConnection(db, organizationId, req.params.id), 204),
  );
  router.post(
    "/api/v1/connections/:id/signing-secret/rotate",
    machineHandler<"id">((organizationId, req) => rotateConnectionSigningSecret(deps, organizationId, req.params.id), 201),
  );

  return router;
}
