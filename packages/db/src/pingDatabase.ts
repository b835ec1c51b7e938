import { sql } from "kysely";
import type { Db } from "./database.js";

/** Runs `select 1`: resolves when the database answers a query through the pool, rejects otherwise. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
