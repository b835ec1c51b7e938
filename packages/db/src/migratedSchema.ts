import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase } from "./database.js";
import { databaseUrl } from "./databaseUrl.js";
import { describeSchema } from "./describeSchema.js";
import { migrateToLatest } from "./migrate.js";

/**
 * The schema the migrations make, as `describeSchema` writes it: migrates a new database on the server at
 * `adminUrl` (a superuser URL), describes it, and drops it.
 */
export async function migratedSchema(adminUrl: string): Promise<string> {
  const name = `switchyard_schema_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
    const database = openDatabase({ connectionString: databaseUrl(adminUrl, name), timeoutMs: 30_000, poolSize: 1, onIdleError: () => {} });
    try {
      await migrateToLatest(database.db);
      return await describeSchema(database.pool);
    } finally {
      await database.close();
      await admin.query(`drop database if exists ${name} with (force)`);
    }
  } finally {
    await admin.end();
  }
}
