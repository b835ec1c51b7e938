import { randomBytes } from "node:crypto";
import { type Db, databaseUrl, migrateTo, openDatabase } from "@switchyard/db";
import pg from "pg";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** A superuser URL on the test PostgreSQL server, for creating and dropping databases. */
    adminUrl: string;
    /** A migrated database that every test file clones its own database from. */
    templateDatabase: string;
  }
}

/** A database of one test file's own: its URL, and `drop` to remove it (sessions still open on it are ended). */
export interface TestDatabase {
  readonly url: string;
  readonly drop: () => Promise<void>;
}

/**
 * A fresh database for one test file, cloned from the run's migrated template (see `globalSetup`), or with
 * `empty`, with no schema at all, for tests of the migrations themselves. Named after the template, so that
 * the run's teardown drops it if the file could not.
 */
export async function createTestDatabase(options: { readonly empty?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject("adminUrl");
  const migrated = inject("templateDatabase");
  const template = options.empty === true ? "template0" : migrated;
  const name = `${migrated}_${randomBytes(4).toString("hex")}`;
  await withAdmin(adminUrl, async (admin) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await admin.query(`create database ${name} template ${template}`);
        return;
      } catch (error) {
        // 55006: another file is cloning the template at this instant, and PostgreSQL allows one clone at a
        // time; back off a little longer each time rather than fail the file.
        if ((error as { code?: string }).code !== "55006" || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  });
  return {
    url: databaseUrl(adminUrl, name),
    drop: () =>
      withAdmin(adminUrl, async (admin) => {
        await admin.query(`drop database if exists ${name} with (force)`);
      }),
  };
}

/** A database opened, with its pg pool: `close` ends the pool, `drop` removes the database. */
export interface OpenedTestDatabase {
  readonly db: Db;
  readonly pool: pg.Pool;
  readonly close: () => Promise<void>;
  readonly drop: () => Promise<void>;
}

/**
 * A fresh database migrated up to and including `migration` (its file name in packages/db/migrations,
 * without `.sql`), opened: for tests of an upgrade from that version.
 */
export async function createDatabaseAt(migration: string): Promise<OpenedTestDatabase> {
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

async function withAdmin<T>(adminUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
