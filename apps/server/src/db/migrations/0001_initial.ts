import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("organizations")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // The secret is encrypted (AES-256-GCM) with the server's encryption key; it is never returned.
  await db.schema
    .createTable("access_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("organization_id", "uuid", (c) => c.notNull().references("organizations.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("secret_ciphertext", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("revoked_at", "timestamptz")
    .execute();
  await db.schema.createIndex("access_keys_organization_idx").on("access_keys").column("organization_id").execute();

  await db.schema
    .createTable("workspaces")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("organization_id", "uuid", (c) => c.notNull().references("organizations.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("workspaces_organization_idx").on("workspaces").columns(["organization_id", "id"]).execute();

  // Only a SHA-256 of the full key is kept; the key is shown once, at creation or rotation.
  await db.schema
    .createTable("publishable_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("workspace_id", "uuid", (c) => c.notNull().references("workspaces.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("key_hash", "bytea", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("revoked_at", "timestamptz")
    .execute();
  // At most one active key per workspace: rotation revokes the old key in the same transaction.
  await sql`create unique index publishable_keys_one_active_idx on publishable_keys (workspace_id) where revoked_at is null`.execute(db);

  await db.schema
    .createTable("events")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("workspace_id", "uuid", (c) => c.notNull().references("workspaces.id"))
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("resource", "text")
    .addColumn("resource_id", "text")
    .addColumn("payload", "jsonb", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("events_workspace_idx").on("events").columns(["workspace_id", "id"]).execute();
}
