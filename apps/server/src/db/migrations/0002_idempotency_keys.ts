import { type Kysely, sql } from "kysely";

/**
 * Idempotency keys, remembered per workspace until `expires_at`. Kept apart from `events` so that expiry is
 * a cheap range delete, and without foreign keys: the ingest statement writes a key and its event together,
 * and the per-row checks would only add cost to the hot path.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("idempotency_keys")
    .addColumn("workspace_id", "uuid", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("event_id", "uuid", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("idempotency_keys_pkey", ["workspace_id", "key"])
    .execute();
  // Keys arrive in expiry order, so a BRIN index finds the expired ones for the purge at a fraction of a
  // B-tree's cost on every insert (the ingest path).
  await sql`create index idempotency_keys_expires_idx on idempotency_keys using brin (expires_at)`.execute(db);
}
