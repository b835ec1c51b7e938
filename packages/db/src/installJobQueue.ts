import { runMigrations } from "graphile-worker";
import type pg from "pg";

/**
 * Installs or upgrades graphile-worker's own schema (`graphile_worker`), which the ingest statement uses to
 * add delivery jobs. graphile-worker owns that schema and its migrations; we only ask it to run them.
 */
export async function installJobQueue(pool: pg.Pool): Promise<void> {
  await runMigrations({ pgPool: pool });
}
