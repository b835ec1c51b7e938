import type { Db } from "@switchyard/db";

export async function insertOrganization(
  db: Db,
  row: { id: string; name: string },
): Promise<{ id: string; name: string; created_at: Date }> {
  return db.insertInto("organizations").values(row).returning(["id", "name", "created_at"]).executeTakeFirstOrThrow();
}

export async function listOrganizations(db: Db): Promise<Array<{ id: string; name: string; created_at: Date }>> {
  return db.selectFrom("organizations").select(["id", "name", "created_at"]).orderBy("id").execute();
}

/** The organization's row, locked until the transaction ends (pass one); undefined when there is none. */
export async function lockOrganization(trx: Db, id: string): Promise<{ id: string; name: string } | undefined> {
  return trx.selectFrom("organizations").select(["id", "name"]).where("id", "=", id).forUpdate().executeTakeFirst();
}

/**
 * Gives the organization a new id. Every foreign key that names an organization is `ON UPDATE CASCADE`
 * (migration 0012), so its access keys and workspaces, and through them everything else, follow in the same
 * statement.
 */
export async function changeOrganizationId(trx: Db, id: string, newId: string): Promise<void> {
  await trx.updateTable("organizations").set({ id: newId }).where("id", "=", id).executeTakeFirstOrThrow();
}

export async function organizationExists(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom("organizations").select("id").where("id", "=", id).executeTakeFirst();
  return row !== undefined;
}
