import type { Kysely } from "kysely";

/**
 * The shared counters of the `postgres` rate-limit store (rate-limiter-flexible's RateLimiterPostgres). Its
 * statements insert by position, so the columns and their order are the library's: one row per
 * `events:<workspace id>` key, `expire` in epoch milliseconds. Expired rows are deleted by the library every
 * five minutes; with one row per active workspace the table stays small, so `expire` has no index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("rate_limits")
    .addColumn("key", "varchar(255)", (c) => c.primaryKey())
    .addColumn("points", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("expire", "bigint")
    .execute();
}
