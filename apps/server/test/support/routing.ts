import type { Db } from "@switchyard/db";
import { routeOutbox, routeTask } from "@switchyard/db";
import { sql } from "kysely";
import type pg from "pg";

/**
 * Drains the routing outbox as a worker's `route` job would (for tests with no worker running): writes the
 * deliveries of the events ingested so far, leaving them `pending` (a worker would then claim them), and
 * completes the `route` jobs that ingestion's wakes queued. Answers how many deliveries were written.
 */
export async function routeQueuedEvents(db: Db, pool: pg.Pool): Promise<number> {
  let routed = 0;
  for (;;) {
    const run = await routeOutbox(pool, 8);
    routed += run.routed;
    if (run.batches < 8) break;
  }
  await sql`
    select graphile_worker.complete_jobs(array(
      select id from graphile_worker.jobs where task_identifier = ${routeTask} and locked_at is null))`.execute(db);
  return routed;
}

/** The routing outbox's rows, oldest first: the events and rules of each ingested batch not yet routed. */
export async function outboxRows(db: Db): Promise<Array<{ events: string[]; rules: string[] }>> {
  const { rows } = await sql<{ events: string[]; rules: string[] }>`
    select events::text[] as events, rules::text[] as rules from route_outbox order by id`.execute(db);
  return rows;
}

/**
 * The queued graphile-worker jobs of `task`, oldest first, with their payloads (the public `jobs` view omits
 * them, so they are read from the table behind it).
 */
export async function queuedJobs(db: Db, task: string): Promise<Array<{ id: string; payload: unknown; locked: boolean }>> {
  const { rows } = await sql<{ id: string; payload: unknown; locked: boolean }>`
    select j.id, p.payload, j.locked_at is not null as locked
    from graphile_worker.jobs j join graphile_worker._private_jobs p on p.id = j.id
    where j.task_identifier = ${task} order by j.id`.execute(db);
  return rows;
}
