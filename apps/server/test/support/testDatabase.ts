import { randomBytes } from "node:crypto";
import { type Db, migrateTo, openDatabase } from "@switchyard/db";
import pg from "pg";
import { inject } from "vitest";
import { databaseUrl } from "./net.js";

/**
 * A fresh database for one test file, cloned from the migrated template (or, `empty`, with no schema at all, for
 * tests of the migrations themselves); `drop` removes it.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = inject("adminUrl");
  const migrated = inject("templateDatabase");
  const template = options.empty === true ? "template0" : migrated;
  const name = `${migrated}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await admin.query(`create database ${name} template ${template}`);
        break;
      } catch (error) {
        // 55006: another file is cloning the template at this instant; PostgreSQL allows one at a time.
        if ((error as { code?: string }).code !== "55006" || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrl(adminUrl, name),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A fresh database migrated up to and including `migration` (by name: its file name in packages/db/migrations, without `.sql`), opened: for
 * tests of an upgrade from that version. `close` ends the pool, `drop` removes the database.
 */
export async function createDatabaseAt(
  migration: string,
): Promise<{ db: Db; pool: pg.Pool; close: () => Promise<void>; drop: () => Promise<void> }> {
  const database = await createTestDatabase({ empty: true });
  const handle = openDatabase({ connectionString: database.url, timeoutMs: 5000, poolSize: 2, onIdleError: () => {} });
  try {
    await migrateTo(handle.db, migration);
  } catch (error) {
    await handle.close();
    await database.drop();
    throw error;
  }
  return { db: handle.db, pool: handle.pool, close: handle.close, drop: database.drop };
}
