import type { ConnectionsTable, Db } from "@switchyard/db";
import type { Selectable } from "kysely";

export type ConnectionRow = Omit<Selectable<ConnectionsTable>, "failing_since" | "deleted_at">;

const columns = [
  "connections.id",
  "connections.workspace_id",
  "connections.integration_type",
  "connections.name",
  "connections.metadata",
  "connections.secrets_ciphertext",
  "connections.active",
  "connections.inactive_reason",
  "connections.created_at",
  "connections.updated_at",
] as const;

export async function insertConnection(
  db: Db,
  row: { id: string; workspace_id: string; integration_type: string; name: string; metadata: unknown; secrets_ciphertext: string },
): Promise<ConnectionRow> {
  return db
    .insertInto("connections")
    .values({ ...row, metadata: JSON.stringify(row.metadata) })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

/** A live (not deleted) connection of the organization; `forUpdate` locks it (pass a transaction). */
export async function findConnection(
  db: Db,
  organizationId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ConnectionRow | undefined> {
  let query = db
    .selectFrom("connections")
    .innerJoin("workspaces", "workspaces.id", "connections.workspace_id")
    .select(columns)
    .where("workspaces.organization_id", "=", organizationId)
    .where("connections.id", "=", id)
    .where("connections.deleted_at", "is", null);
  if (options.forUpdate) query = query.forUpdate("connections");
  return query.executeTakeFirst();
}

export async function listConnections(
  db: Db,
  organizationId: string,
  page: { limit: number; afterId?: string | undefined; workspaceId?: string | undefined },
): Promise<ConnectionRow[]> {
  let query = db
    .selectFrom("connections")
    .innerJoin("workspaces", "workspaces.id", "connections.workspace_id")
    .select(columns)
    .where("workspaces.organization_id", "=", organizationId)
    .where("connections.deleted_at", "is", null);
  if (page.workspaceId !== undefined) query = query.where("connections.workspace_id", "=", page.workspaceId);
  if (page.afterId !== undefined) query = query.where("connections.id", ">", page.afterId);
  return query
    .orderBy("connections.id")
    .limit(page.limit + 1)
    .execute();
}

export async function updateConnection(
  db: Db,
  id: string,
  changes: {
    name: string;
    metadata: unknown;
    secrets_ciphertext: string;
    active: boolean;
    inactive_reason: string | null;
    clearFailureStreak: boolean;
  },
): Promise<ConnectionRow> {
  const { metadata, clearFailureStreak, ...rest } = changes;
  return db
    .updateTable("connections")
    .set({ ...rest, metadata: JSON.stringify(metadata), updated_at: new Date(), ...(clearFailureStreak ? { failing_since: null } : {}) })
    .where("id", "=", id)
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export async function updateConnectionSecrets(db: Db, id: string, secretsCiphertext: string): Promise<void> {
  await db.updateTable("connections").set({ secrets_ciphertext: secretsCiphertext, updated_at: new Date() }).where("id", "=", id).execute();
}

/** Hides the connection; its deliveries' history keeps referring to it. */
export async function softDeleteConnection(db: Db, id: string): Promise<void> {
  await db.updateTable("connections").set({ deleted_at: new Date(), active: false, updated_at: new Date() }).where("id", "=", id).execute();
}
