import type { Db, StatementRunner } from "@switchyard/db";

export async function insertAccessKey(
  db: Db,
  row: { id: string; organization_id: string; name: string; secret_ciphertext: string },
): Promise<{ id: string; created_at: Date }> {
  return db.insertInto("access_keys").values(row).returning(["id", "created_at"]).executeTakeFirstOrThrow();
}

/**
 * The key's organization and sealed secret, or undefined when the key is unknown or revoked. Asked by
 * every request with a machine token (until the JWT is verified), so prepared by name on the pg pool.
 */
export async function findActiveAccessKey(
  pool: StatementRunner,
  id: string,
): Promise<{ organization_id: string; secret_ciphertext: string } | undefined> {
  const result = await pool.query<{ organization_id: string; secret_ciphertext: string }>({
    name: "switchyard_find_access_key",
    text: "select organization_id, secret_ciphertext from access_keys where id = $1 and revoked_at is null",
    values: [id],
  });
  return result.rows[0];
}

export async function revokeAccessKey(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable("access_keys")
    .set({ revoked_at: new Date() })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
