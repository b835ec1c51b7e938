import type { Db, WorkspacesTable } from "@switchyard/db";
import { type Selectable, sql } from "kysely";
import { fetchPage, type PageWindow } from "../http/cursorPage.js";

export type WorkspaceRow = Selectable<WorkspacesTable>;

const columns = ["id", "organization_id", "name", "description", "active", "created_at", "updated_at"] as const;

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

export async function insertWorkspace(
  db: Db,
  row: { id: string; organization_id: string; name: string; description: string | null },
): Promise<WorkspaceRow> {
  return db.insertInto("workspaces").values(row).returning(columns).executeTakeFirstOrThrow();
}

export async function findWorkspace(db: Db, organizationId: string, id: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom("workspaces").select(columns).where("organization_id", "=", organizationId).where("id", "=", id).executeTakeFirst();
}

/** One page of the organization's workspaces in id (creation) order (`fetchPage`); only those with `active` when given. */
export async function listWorkspaces(db: Db, organizationId: string, page: PageWindow, active?: boolean): Promise<WorkspaceRow[]> {
  const ofOrganization = db.selectFrom("workspaces").select(columns).where("organization_id", "=", organizationId);
  return fetchPage(active === undefined ? ofOrganization : ofOrganization.where("active", "=", active), "id", "asc", page);
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

/** What an update sets: `name` always; `description` and `active` when not undefined (null clears the description). */
export interface WorkspaceChange {
  readonly name: string;
  readonly description?: string | null | undefined;
  readonly active?: boolean | undefined;
}

export async function updateWorkspaceRow(
  db: Db,
  organizationId: string,
  id: string,
  change: WorkspaceChange,
): Promise<WorkspaceRow | undefined> {
  return db
    .updateTable("workspaces")
    .set({
      name: change.name,
      ...(change.description === undefined ? {} : { description: change.description }),
      ...(change.active === undefined ? {} : { active: change.active }),
      updated_at: new Date(),
    })
    .where("organization_id", "=", organizationId)
    .where("id", "=", id)
    .returning(columns)
    .executeTakeFirst();
}

/** Those of `ids` that are workspaces of the organization, each with whether it is active (accepts events). */
export async function filterOrganizationWorkspaces(db: Db, organizationId: string, ids: readonly string[]): Promise<Map<string, boolean>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom("workspaces")
    .select(["id", "active"])
    .where("organization_id", "=", organizationId)
    .where("id", "in", [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, r.active]));
}
