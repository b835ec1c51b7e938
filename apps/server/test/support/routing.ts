import { type DeliveryDb, parseRouteJob, routeEvents, routeTask } from "@switchyard/delivery";
import { sql } from "kysely";
import type { Db } from "../../src/db/database.js";

/**
 * Runs the queued `route` jobs as a worker would (for tests with no worker running): writes the deliveries
 * of the events ingested so far and completes the jobs, leaving the deliveries `pending` (a worker would
 * then claim them). Answers how many deliveries were written.
 */
export async function routeQueuedEvents(db: Db): Promise<number> {
  let routed = 0;
  for (const row of (await queuedJobs(db, routeTask)).filter((j) => !j.locked)) {
    const job = parseRouteJob(row.payload);
    if (job === undefined) throw new Error(`route job ${row.id} has a malformed payload`);
    routed += (await routeEvents(db as unknown as DeliveryDb, job)).routed;
    await sql`select graphile_worker.complete_jobs(array[${row.id}::bigint])`.execute(db);
  }
  return routed;
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
