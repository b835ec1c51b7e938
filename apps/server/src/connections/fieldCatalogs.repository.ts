import type { ConnectionFieldCatalogsTable, Db } from "@switchyard/db";
import type { Selectable } from "kysely";

export type FieldCatalogRow = Selectable<ConnectionFieldCatalogsTable>;

export async function findFieldCatalog(db: Db, connectionId: string): Promise<FieldCatalogRow | undefined> {
  return db.selectFrom("connection_field_catalogs").selectAll().where("connection_id", "=", connectionId).executeTakeFirst();
}

/**
 * Stores a freshly made catalog: the connection's first (its `id` and `created_by` are then this call's) or a
 * refresh of it, which keeps the row's id and creator. Two first reads at once both write; the later wins.
 */
export async function saveFieldCatalog(
  db: Db,
  row: { id: string; connection_id: string; catalog_version: string; fields: unknown; refreshed_at: Date; created_by: string },
): Promise<FieldCatalogRow> {
  const fields = JSON.stringify(row.fields);
  return db
    .insertInto("connection_field_catalogs")
    .values({ ...row, fields, updated_at: row.refreshed_at })
    .onConflict((oc) =>
      oc.column("connection_id").doUpdateSet({
        catalog_version: row.catalog_version,
        fields,
        refreshed_at: row.refreshed_at,
        updated_at: row.refreshed_at,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}
