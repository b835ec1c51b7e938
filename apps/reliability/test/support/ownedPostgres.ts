import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startEmbeddedPostgres } from "@switchyard/db/embedded";

/**
 * A PostgreSQL that one scenario owns: the embedded one (the server's own default), a new data folder under the
 * scenario's temp folder, a free loopback port. Never the machine's shared server.
 */
export interface OwnedPostgres {
  /** Superuser URL of the `switchyard` database. */
  readonly url: string;
  readonly port: number;
  /** Stops it (fast shutdown: sessions are ended, the data is kept). */
  readonly stop: () => Promise<void>;
  /** Starts it again on the same data and port. */
  readonly start: () => Promise<void>;
}

const running = new Set<string>();

// Killing the test process must not leave a PostgreSQL behind: ask each one still running for a fast shutdown.
process.on("exit", () => {
  for (const pgdata of running) {
    try {
      const pid = Number(readFileSync(join(pgdata, "postmaster.pid"), "utf8").split("\n")[0]);
      if (pid > 0) process.kill(pid, "SIGINT");
    } catch {
      // Already gone.
    }
  }
});

/**
 * Initialises and starts a PostgreSQL in `dir`, with a `switchyard` database, at PostgreSQL's default durability
 * (fsync, synchronous_commit): "acknowledged" means flushed, as in production.
 */
export async function startOwnedPostgres(dir: string): Promise<OwnedPostgres> {
  const pgdata = join(dir, "pgdata");
  const server = await startEmbeddedPostgres({ dataDir: dir, postgresFlags: ["-c", "max_connections=200"] });
  running.add(pgdata);
  return {
    url: server.connectionString,
    port: server.port,
    stop: async () => {
      await server.stop();
      running.delete(pgdata);
    },
    start: async () => {
      await server.start();
      running.add(pgdata);
    },
  };
}
