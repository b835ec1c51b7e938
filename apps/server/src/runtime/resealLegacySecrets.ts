import { type Db, inTransaction } from "@switchyard/db";
import { type SecretBox, secretContext } from "@switchyard/secret-box";

/**
 * Seals every secret still in the first form (`v1`, bound to no row) again in the current one, bound to the
 * row and column it is stored in, so that none can be moved to another row and still open. Runs at every
 * start, after the migrations; a database without such secrets costs two index-free scans of small tables.
 * Returns how many were sealed again.
 */
export async function resealLegacySecrets(db: Db, secretBox: SecretBox): Promise<number> {
  return inTransaction(db, async (trx) => {
    let resealed = 0;
    const keys = await trx
      .selectFrom("access_keys")
      .select(["id", "secret_ciphertext"])
      .where("secret_ciphertext", "like", "v1.%")
      .forUpdate()
      .execute();
    for (const key of keys) {
      const sealed = secretBox.seal(secretBox.openLegacy(key.secret_ciphertext), secretContext.accessKey(key.id));
      await trx.updateTable("access_keys").set({ secret_ciphertext: sealed }).where("id", "=", key.id).execute();
      resealed += 1;
    }
    const connections = await trx
      .selectFrom("connections")
      .select(["id", "secrets_ciphertext"])
      .where("secrets_ciphertext", "like", "v1.%")
      .forUpdate()
      .execute();
    for (const connection of connections) {
      const sealed = secretBox.seal(secretBox.openLegacy(connection.secrets_ciphertext), secretContext.connection(connection.id));
      await trx.updateTable("connections").set({ secrets_ciphertext: sealed }).where("id", "=", connection.id).execute();
      resealed += 1;
    }
    return resealed;
  });
}
