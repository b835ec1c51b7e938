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

export async function organizationExists(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom("organizations").select("id").where("id", "=", id).executeTakeFirst();
  return row !== undefined;
}
