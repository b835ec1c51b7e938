import { deliverTask, deliveryJobKeyPrefix } from "./jobs.js";
import { preparedStatement, runStatement, type StatementRunner } from "./statements.js";

const requeueStaleStatement = preparedStatement("requeue_stale_deliveries");
const requeueExpiredStatement = preparedStatement("requeue_expired_leases");

/**
 * Gives a job of its own to every due delivery that has waited more than `staleAfterMs` without an attempt
 * (at most `limit`): its job was lost with a worker that died after taking it and before claiming. Keyed by
 * delivery, so a delivery never has two such jobs. Answers how many it gave a job.
 */
export async function requeueStaleDeliveries(runner: StatementRunner, staleAfterMs: number, limit: number): Promise<number> {
  const rows = await runStatement(runner, requeueStaleStatement, [staleAfterMs / 1000, limit, deliverTask, deliveryJobKeyPrefix]);
  return rows.length;
}

/**
 * Puts deliveries whose attempt was lost (the lease ran out: the worker was killed or lost the database) back
 * in the queue, each with its own job, at most `limit`. Several workers may sweep at once. Answers how many.
 */
export async function requeueExpiredLeases(runner: StatementRunner, limit: number): Promise<number> {
  const rows = await runStatement(runner, requeueExpiredStatement, [limit, deliverTask, deliveryJobKeyPrefix]);
  return rows.length;
}
