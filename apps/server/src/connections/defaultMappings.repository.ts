import type { ConnectionDefaultMappingsTable, Db } from "@switchyard/db";
import type { Selectable } from "kysely";

export type DefaultMappingRow = Selectable<ConnectionDefaultMappingsTable>;

/** The mapping a connection starts with (`generated`, version 1); pass the transaction that creates the connection. */
export async function insertGeneratedMapping(
  trx: Db,
  row: { connection_id: string; id: string; mapping_id: string; name: string; schema: unknown; created_by: string },
): Promise<void> {
  await trx
    .insertInto("connection_default_mappings")
    .values({ ...row, version: 1, status: "generated", schema: JSON.stringify(row.schema), catalog_version: null })
    .execute();
}

/** The connection's default mapping; `forUpdate` locks it (pass a transaction). */
export async function findDefaultMapping(
  db: Db,
  connectionId: string,
  options: { forUpdate?: boolean } = {},
): Promise<DefaultMappingRow | undefined> {
  const query = db.selectFrom("connection_default_mappings").selectAll().where("connection_id", "=", connectionId);
  return (options.forUpdate ? query.forUpdate() : query).executeTakeFirst();
}

/** Replaces the mapping with its next version, `stored`. */
export async function storeMappingVersion(
  trx: Db,
  connectionId: string,
  next: { id: string; version: number; name: string; schema: unknown; catalog_version: string | null },
): Promise<DefaultMappingRow> {
  return trx
    .updateTable("connection_default_mappings")
    .set({ ...next, status: "stored", schema: JSON.stringify(next.schema), updated_at: new Date() })
    .where("connection_id", "=", connectionId)
    .returningAll()
    .executeTakeFirstOrThrow();
}
