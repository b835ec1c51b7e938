import type { Db, WorkspacesTable } from "@switchyard/db";
import type { Selectable } from "kysely";

export type WorkspaceRow = Selectable<WorkspacesTable>;

const columns = ["id", "organization_id", "name", "created_at", "updated_at"] as const;

export async function insertWorkspace(db: Db, row: { id: string; organization_id: string; name: string }): Promise<WorkspaceRow> {
  return db.insertInto("workspaces").values(row).returning(columns).executeTakeFirstOrThrow();
}

export async function findWorkspace(db: Db, organizationId: string, id: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom("workspaces").select(columns).where("organization_id", "=", organizationId).where("id", "=", id).executeTakeFirst();
}

/** One page in id (creation) order, after `afterId` when given; fetches one extra row to tell whether more follow. */
export async function listWorkspaces(
  db: Db,
  organizationId: string,
  page: { limit: number; afterId?: string | undefined },
): Promise<WorkspaceRow[]> {
  let query = db.selectFrom("workspaces").select(columns).where("organization_id", "=", organizationId);
  if (page.afterId !== undefined) query = query.where("id", ">", page.afterId);
  return query
    .orderBy("id")
    .limit(page.limit + 1)
    .execute();
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
