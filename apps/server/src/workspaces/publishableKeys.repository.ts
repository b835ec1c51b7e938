import type { Db, PublishableKeysTable, StatementRunner } from "@switchyard/db";
import type { Selectable } from "kysely";

export type PublishableKeyRow = Pick<Selectable<PublishableKeysTable>, "id" | "workspace_id" | "name" | "created_at">;

export async function insertPublishableKey(
  trx: Db,
  row: { id: string; workspace_id: string; name: string; key_hash: Buffer },
): Promise<PublishableKeyRow> {
  return trx.insertInto("publishable_keys").values(row).returning(["id", "workspace_id", "name", "created_at"]).executeTakeFirstOrThrow();
}

/** Revokes the workspace's active key and returns its name, if it had one. Call inside the rotating transaction. */
export async function revokeActivePublishableKey(trx: Db, workspaceId: string): Promise<string | undefined> {
  const row = await trx
    .updateTable("publishable_keys")
    .set({ revoked_at: new Date() })
    .where("workspace_id", "=", workspaceId)
    .where("revoked_at", "is", null)
    .returning("name")
    .executeTakeFirst();
  return row?.name;
}

/**
 * The active key with this id, with its hash for comparison and whether its workspace is active (accepts
 * events); undefined when unknown or revoked. Every request with a publishable key asks this, so it runs as a
 * statement prepared by name on the pg pool (planned once per pooled connection), not through Kysely; the
 * workspace's flag comes with it (one more primary-key probe) rather than with a query of its own.
 */
export async function findActivePublishableKey(
  pool: StatementRunner,
  id: string,
): Promise<{ workspace_id: string; key_hash: Buffer; workspace_active: boolean } | undefined> {
  const result = await pool.query<{ workspace_id: string; key_hash: Buffer; workspace_active: boolean }>({
    name: "switchyard_find_publishable_key_of_workspace",
    text:
      "select k.workspace_id, k.key_hash, w.active as workspace_active from publishable_keys k " +
      "join workspaces w on w.id = k.workspace_id where k.id = $1 and k.revoked_at is null",
    values: [id],
  });
  return result.rows[0];
}

export async function findWorkspaceActivePublishableKeys(db: Db, workspaceIds: readonly string[]): Promise<PublishableKeyRow[]> {
  if (workspaceIds.length === 0) return [];
  return db
    .selectFrom("publishable_keys")
    .select(["id", "workspace_id", "name", "created_at"])
    .where("workspace_id", "in", [...workspaceIds])
    .where("revoked_at", "is", null)
    .execute();
}
