import type { Db } from "@switchyard/db";
import { deliverTask, deliveryJobKeyPrefix } from "@switchyard/db";
import { sql } from "kysely";

/** Adds a job delivering each of `deliveryIds` now (`switchyard_add_job`, migration 0018). Call in the transaction that made them due. */
export async function scheduleDeliveriesNow(trx: Db, deliveryIds: readonly string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await sql`
    select job.job_id from unnest(${deliveryIds}::uuid[]) as id
    cross join lateral switchyard_add_job(${deliverTask}, json_build_object('rule_events', json_build_array(id)),
      now(), ${deliveryJobKeyPrefix}::text || id) as job`.execute(trx);
}

/**
 * Removes the waiting jobs of `deliveryIds` (there may be none). A job already running keeps running but
 * is never retried by graphile-worker; its late result cannot overwrite a cancel (the worker records
 * results only over `processing`). Call in the transaction that canceled them.
 */
export async function unscheduleDeliveries(trx: Db, deliveryIds: readonly string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await sql`select graphile_worker.remove_job(${deliveryJobKeyPrefix}::text || id) from unnest(${deliveryIds}::uuid[]) as id`.execute(trx);
}
