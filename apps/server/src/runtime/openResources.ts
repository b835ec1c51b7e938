import { type Db, installJobQueue, migrateToLatest, openDatabase } from "@switchyard/db";
import { findRunningEmbeddedPostgres, startEmbeddedPostgres } from "@switchyard/db/embedded";
import { createSecretBox, loadOrCreateKeyFile, type SecretBox } from "@switchyard/secret-box";
import type pg from "pg";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { resealLegacySecrets } from "./resealLegacySecrets.js";

export interface Resources {
  readonly db: Db;
  /** The pool under `db`, for the few libraries that take a pg pool (the rate limiter's postgres store). */
  readonly pool: pg.Pool;
  /** The database's URL (the embedded one's when `DATABASE_URL` is unset), for processes' own pools. */
  readonly databaseUrl: string;
  readonly secretBox: SecretBox;
  /** Closes everything opened, in reverse order of opening. */
  readonly close: () => Promise<void>;
}

/**
 * Opens what a process needs: the database (`DATABASE_URL`, or the embedded PostgreSQL, started here
 * unless `reuseRunningEmbedded` finds one another process runs), migrated to the latest schema, and the
 * secret box. On failure, whatever was already opened is closed again.
 */
export async function openResources(config: Config, log: Logger, options: { reuseRunningEmbedded: boolean }): Promise<Resources> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closeOne of closers.reverse()) await closeOne();
  };
  try {
    let databaseUrl = config.databaseUrl;
    if (databaseUrl === undefined && options.reuseRunningEmbedded) {
      databaseUrl = await findRunningEmbeddedPostgres(config.dataDir, config.embeddedPgPort);
    }
    if (databaseUrl === undefined) {
      const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort });
      closers.push(embedded.stop);
      databaseUrl = embedded.connectionString;
      log.info({ dataDir: config.dataDir, port: config.embeddedPgPort }, "embedded PostgreSQL started");
    }

    let key = config.encryptionKey;
    if (key === undefined) {
      const file = await loadOrCreateKeyFile(config.dataDir);
      key = file.key;
      if (file.created && config.databaseUrl !== undefined) {
        log.warn(
          { dataDir: config.dataDir },
          "created an encryption key file; set SWITCHYARD_ENCRYPTION_KEY when several instances share the database",
        );
      }
    }

    const database = openDatabase({
      connectionString: databaseUrl,
      timeoutMs: config.dbTimeoutMs,
      poolSize: config.dbPoolSize,
      onIdleError: (error) => log.warn({ err: error }, "idle database connection failed"),
    });
    closers.push(database.close);
    const applied = await migrateToLatest(database.db);
    await installJobQueue(database.pool);
    if (applied.length > 0) log.info({ migrations: applied }, "database migrated");
    const secretBox = createSecretBox(key);
    const resealed = await resealLegacySecrets(database.db, secretBox);
    if (resealed > 0) log.info({ resealed }, "secrets sealed again, each bound to its row");
    return { db: database.db, pool: database.pool, databaseUrl, secretBox, close };
  } catch (error) {
    await close();
    throw error;
  }
}
