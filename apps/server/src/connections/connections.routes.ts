import type {
  ConnectionDefaultMappingInput,
  ConnectionDeleteInput,
  ConnectionInput,
  ConnectionUpdate,
  DeleteConnectionData,
  GetConnectionFieldsData,
  ListConnectionsData,
} from "@switchyard/client";
import { Router } from "express";
import { machineHandler } from "../http/machineHandler.js";
import { routeWorkspaceScopedList } from "../http/workspaceScopedList.js";
import { getConnectionActions } from "./connectionActions.service.js";
import { getConnectionFields } from "./connectionFields.service.js";
import {
  type ConnectionDeps,
  createConnection,
  deleteConnection,
  getConnection,
  listConnectionPage,
  rotateConnectionSigningSecret,
  updateConnectionConfig,
} from "./connections.service.js";
import { getDefaultMapping, storeDefaultMapping } from "./defaultMappings.service.js";

type ConnectionQuery = NonNullable<ListConnectionsData["query"]>;

export function connectionsRouter(deps: ConnectionDeps): Router {
  const router = Router();
  const { db } = deps;

  routeWorkspaceScopedList<ConnectionQuery>(router, "connections", (organizationId, _query, page) =>
    listConnectionPage(db, organizationId, page),
  );
  router.post(
    "/api/v1/connections",
    machineHandler((organizationId, req, createdBy) => createConnection(deps, organizationId, req.body as ConnectionInput, createdBy), 201),
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
    machineHandler<"id">((organizationId, req) => deleteConnection(db, organizationId, req.params.id, forceDeleteOf(req))),
  );
  router.post(
    "/api/v1/connections/:id/signing-secret/rotate",
    machineHandler<"id">((organizationId, req) => rotateConnectionSigningSecret(deps, organizationId, req.params.id), 201),
  );
  routeConnectionData(router, deps);

  return router;
}

/** The connection's sub-resources: its actions' live data, its field catalog and its default mapping. */
function routeConnectionData(router: Router, deps: ConnectionDeps): void {
  const { db } = deps;
  router.get(
    "/api/v1/connections/:id/actions",
    machineHandler<"id">((organizationId, req) => getConnectionActions(deps, organizationId, req.params.id)),
  );
  router.get(
    "/api/v1/connections/:id/fields",
    machineHandler<"id">((organizationId, req, createdBy) => {
      // The validator has checked the query against the spec; it leaves the value a string.
      const query = req.query as unknown as NonNullable<GetConnectionFieldsData["query"]>;
      return getConnectionFields(deps, organizationId, req.params.id, { refresh: isTrue(query.refresh), caller: createdBy });
    }),
  );
  router.get(
    "/api/v1/connections/:id/mappings/default",
    machineHandler<"id">((organizationId, req) => getDefaultMapping(db, organizationId, req.params.id)),
  );
  router.put(
    "/api/v1/connections/:id/mappings/default",
    machineHandler<"id">((organizationId, req) =>
      storeDefaultMapping(db, organizationId, req.params.id, req.body as ConnectionDefaultMappingInput),
    ),
  );
}

/**
 * `force_delete`, from the JSON body (as Meshes' client sends it on DELETE) or the query. A DELETE without a
 * body, with or without `Content-Type: application/json`, reaches here with an empty or absent body.
 */
function forceDeleteOf(req: { body?: unknown; query: unknown }): boolean {
  const body = (req.body ?? {}) as ConnectionDeleteInput;
  const query = req.query as NonNullable<DeleteConnectionData["query"]>;
  return body.force_delete === true || isTrue(query.force_delete);
}

/** A boolean query parameter as the validator passes it on (the string it was sent as). */
function isTrue(value: boolean | string | undefined): boolean {
  return value === true || value === "true";
}
