import type { Db } from "./database.js";

/** Runs `work` in a transaction: the caller's, when `db` already is one, or a new one. */
export async function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
