import pg from "pg";

/**
 * The worker's own pool: graphile-worker holds one connection for LISTEN plus one per running job, so
 * `concurrency + 2`. Connection failures (PostgreSQL restarting) are logged, never thrown at the process.
 */
export function createWorkerPool(connectionString: string, concurrency: number, onError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: concurrency + 2, application_name: "switchyard-worker", keepAlive: true });
  pool.on("error", onError);
  pool.on("connect", (client) => client.on("error", onError));
  return pool;
}
