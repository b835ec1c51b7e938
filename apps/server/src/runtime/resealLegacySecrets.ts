import { type Db, inTransaction } from "@switchyard/db";
import { type SecretBox, secretContext } from "@switchyard/secret-box";
import { sql } from "kysely";

/** Every column that holds sealed secrets, with the context a secret there is bound to (its row's id and column). */
const sealedColumns = [
  { table: "access_keys", column: "secret_ciphertext", context: secretContext.accessKey },
  { table: "connections", column: "secrets_ciphertext", context: secretContext.connection },
] as const;

/**
 * Seals every secret still in the first form (`v1`, bound to no row) again in the current one, bound to the
 * row and column it is stored in, so that none can be moved to another row and still open. Runs at every
 * start, after the migrations; a database without such secrets costs two index-free scans of small tables.
 * Returns how many were sealed again.
 */
export async function resealLegacySecrets(db: Db, secretBox: SecretBox): Promise<number> {
  return inTransaction(db, async (trx) => {
    let resealed = 0;
    for (const { table, column, context } of sealedColumns) {
      const legacy = await sql<{ id: string; sealed: string }>`
        select id, ${sql.ref(column)} as sealed from ${sql.table(table)} where ${sql.ref(column)} like 'v1.%' for update`.execute(trx);
      for (const row of legacy.rows) {
        const sealed = secretBox.seal(secretBox.openLegacy(row.sealed), context(row.id));
        await sql`update ${sql.table(table)} set ${sql.ref(column)} = ${sealed} where id = ${row.id}`.execute(trx);
        resealed += 1;
      }
    }
    return resealed;
  });
}
