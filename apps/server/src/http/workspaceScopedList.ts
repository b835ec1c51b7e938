import type { Router } from "express";
import { pageParams } from "./cursorPage.js";
import { callerHandler, machineHandler } from "./machineHandler.js";

/** The page a list request asks for, and the workspace that scopes it (none: the whole organization). */
export interface ScopedPage {
  readonly limit: number;
  readonly cursor: string | undefined;
  readonly workspaceId: string | undefined;
}

/**
 * The two routes of a list that a workspace can scope: `GET /api/v1/<resource>`, scoped by its optional
 * `workspace` query parameter, and `GET /api/v1/workspaces/:id/<resource>`, scoped by the path. Both answer
 * `list(organizationId, query, page)`.
 */
export function routeWorkspaceScopedList<Query extends { readonly workspace?: string; readonly limit?: number; readonly cursor?: string }>(
  router: Router,
  resource: string,
  list: (organizationId: string, query: Query, page: ScopedPage) => Promise<unknown>,
): void {
  router.get(
    `/api/v1/${resource}`,
    machineHandler((organizationId, req) => {
      // The validator has checked the query against the spec.
      const query = req.query as unknown as Query;
      return list(organizationId, query, { ...pageParams(query), workspaceId: query.workspace });
    }),
  );
  router.get(
    `/api/v1/workspaces/:id/${resource}`,
    callerHandler<"id">((organizationId, req) => {
      // The validator has checked the query against the spec.
      const query = req.query as unknown as Query;
      return list(organizationId, query, { ...pageParams(query), workspaceId: req.params.id });
    }),
  );
}
