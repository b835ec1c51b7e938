import type { Db, WorkspacesTable } from "@switchyard/db";
import { type Selectable, sql } from "kysely";
import { fetchPage, type PageWindow } from "../http/cursorPage.js";

export type WorkspaceRow = Selectable<WorkspacesTable>;

const columns = ["id", "organization_id", "name", "created_at", "updated_at"] as const;

/**
 * The ids of the organization's workspaces, as a subquery: other tables' rows are scoped to the caller through
 * their workspace (`workspace_id in (…)`), so another organization's are never matched.
 */
export function organizationWorkspaceIds(db: Db, organizationId: string) {
  return db.selectFrom("workspaces").select("workspaces.id").where("workspaces.organization_id", "=", organizationId);
}

/**
 * The rows of a table whose rows belong to a workspace and are deleted softly (rules, connections) that are
 * the organization's and not deleted. The only table in the query's `from` must be that table.
 */
export function liveOfOrganization(db: Db, organizationId: string) {
  return sql<boolean>`workspace_id in (${organizationWorkspaceIds(db, organizationId)}) and deleted_at is null`;
}

export async function insertWorkspace(db: Db, row: { id: string; organization_id: string; name: string }): Promise<WorkspaceRow> {
  return db.insertInto("workspaces").values(row).returning(columns).executeTakeFirstOrThrow();
}

export async function findWorkspace(db: Db, organizationId: string, id: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom("workspaces").select(columns).where("organization_id", "=", organizationId).where("id", "=", id).executeTakeFirst();
}

/** One page of the organization's workspaces in id (creation) order (`fetchPage`). */
export async function listWorkspaces(db: Db, organizationId: string, page: PageWindow): Promise<WorkspaceRow[]> {
  return fetchPage(db.selectFrom("workspaces").select(columns).where("organization_id", "=", organizationId), "id", "asc", page);
}

/** Locks the organization's workspace `id` until the transaction ends; false when there is none. */
export async function lockWorkspace(trx: Db, organizationId: string, id: string): Promise<boolean> {
  const row = await trx
    .selectFrom("workspaces")
    .select("id")
    .where("organization_id", "=", organizationId)
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  return row !== undefined;
}

export async function renameWorkspace(db: Db, organizationId: string, id: string, name: string): Promise<WorkspaceRow | undefined> {
  return db
    .updateTable("workspaces")
    .set({ name, updated_at: new Date() })
    .where("organization_id", "=", organizationId)
    .where("id", "=", id)
    .returning(columns)
    .executeTakeFirst();
}

/** Those of `ids` that are workspaces of the organization. */
export async function filterOrganizationWorkspaces(db: Db, organizationId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom("workspaces")
    .select("id")
    .where("organization_id", "=", organizationId)
    .where("id", "in", [...ids])
    .execute();
  return new Set(rows.map((r) => r.id));
}
