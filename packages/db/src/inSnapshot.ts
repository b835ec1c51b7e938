import type { Db } from "./database.js";

/**
 * Runs read-only `work` in one REPEATABLE READ transaction, so that its several statements see one
 * snapshot (an event's counters and its deliveries agree, say).
 */
export async function inSnapshot<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().setIsolationLevel("repeatable read").setAccessMode("read only").execute(work);
}
