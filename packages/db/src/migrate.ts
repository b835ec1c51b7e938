import { readdir, readFile } from "node:fs/promises";
import { type Kysely, sql } from "kysely";
import { type Migration, type MigrationResultSet, Migrator } from "kysely/migration";

/** The folder of migrations: plain SQL files named `NNNN_what_it_does.sql`, applied in name order. */
const migrationsFolder = new URL("../migrations/", import.meta.url);

/**
 * Every migration, in order, by name (the file name without `.sql`). Forward-only: a landed migration is never
 * edited; add a new file. A file may hold several statements; Kysely's migrator runs the pending files in one
 * transaction, so a failing one leaves the schema as it was.
 */
export async function loadMigrations(): Promise<Record<string, Migration>> {
  const files = (await readdir(migrationsFolder)).filter((file) => file.endsWith(".sql")).sort();
  const migrations: Record<string, Migration> = {};
  for (const file of files) {
    const text = await readFile(new URL(file, migrationsFolder), "utf8");
    migrations[file.slice(0, -".sql".length)] = {
      // No parameters: pg sends it as a simple query, which may hold several statements.
      up: async (db) => {
        await sql.raw(text).execute(db);
      },
    };
  }
  return migrations;
}

function migratorFor<DB>(db: Kysely<DB>): Migrator {
  return new Migrator({ db, provider: { getMigrations: loadMigrations } });
}

function applied({ error, results }: MigrationResultSet): string[] {
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/**
 * Brings the schema up to date; answers the names of the migrations it applied. Kysely's migrator takes an
 * advisory lock and runs the pending migrations in one transaction, so instances starting together cannot race.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  return applied(await migratorFor(db).migrateToLatest());
}

/** Migrates up to and including `migration` (by name): for tests of an upgrade from that version. */
export async function migrateTo<DB>(db: Kysely<DB>, migration: string): Promise<string[]> {
  return applied(await migratorFor(db).migrateTo(migration));
}
