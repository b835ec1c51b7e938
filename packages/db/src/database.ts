import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.js";

/** The database, typed by its complete schema. */
export type Db = Kysely<Database>;

export interface DatabaseOptions {
  readonly connectionString: string;
  /** Bound on connecting, waiting for a pooled connection, and each statement. */
  readonly timeoutMs: number;
  readonly poolSize: number;
  /** Where errors of idle pooled connections go (a restart of PostgreSQL, say); they must not crash the process. */
  readonly onIdleError: (error: Error) => void;
}

export interface DatabaseHandle {
  readonly db: Db;
  readonly pool: pg.Pool;
  readonly close: () => Promise<void>;
}

export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize,
    connectionTimeoutMillis: options.timeoutMs,
    // The server cancels a statement at the timeout; the client-side timeout is the backstop for a
    // server that stopped answering altogether.
    statement_timeout: options.timeoutMs,
    query_timeout: options.timeoutMs + 250,
    idle_in_transaction_session_timeout: options.timeoutMs * 2,
    keepAlive: true,
    application_name: "switchyard",
  });
  pool.on("error", options.onIdleError);
  // A checked-out client's connection can fail between queries too; without a handler that would crash.
  pool.on("connect", (client) => client.on("error", options.onIdleError));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool, close: () => db.destroy() };
}
