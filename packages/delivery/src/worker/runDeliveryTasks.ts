import { deliverTask, queueRouting, routeOutbox, routeTask } from "@switchyard/db";
import type { TaskList } from "graphile-worker";
import { type DeliverBatchDeps, deliverBatch, drainConnection } from "./deliverBatch.js";

/** Outbox rows (ingested batches, often grouped from several requests) one routing statement takes. */
const outboxBatchesPerStatement = 8;
/** How long one `route` job drains a backlog before it queues the next one and completes. */
const maxRouteJobMs = 1_000;

/** The worker's graphile-worker tasks: `route` (drain the routing outbox) and `deliver` (attempt deliveries). */
export function deliveryTasks(deps: DeliverBatchDeps): TaskList {
  return {
    [routeTask]: () => routeTaskRun(deps),
    [deliverTask]: (payload) => deliverTaskRun(deps, payload),
  };
}

/**
 * Drains the routing outbox, a few batches a statement, and delivers what it routed itself: the job completes
 * once its deliveries are claimed or deferred with a job of their own. A worker that dies before a statement
 * commits leaves its outbox rows for the next run (woken by the sweep); one that dies after it leaves pending
 * deliveries without a job, and the sweep's `requeueStaleDeliveries` gives them one.
 */
async function routeTaskRun(deps: DeliverBatchDeps): Promise<void> {
  const started = performance.now();
  for (;;) {
    const { batches, pending } = await routeOutbox(deps.pool, outboxBatchesPerStatement);
    if (pending.length > 0) await deliverBatch(deps, pending, 0);
    if (batches < outboxBatchesPerStatement) return;
    // A long backlog: hand over to a new job now and then, so that this one's slot and lock are not held for long.
    if (performance.now() - started > maxRouteJobMs) {
      await queueRouting(deps.pool);
      return;
    }
  }
}

/** A connection's drain job (its deliveries deferred at its cap), or a list of deliveries (retries, replays, sweeps). */
async function deliverTaskRun(deps: DeliverBatchDeps, payload: unknown): Promise<void> {
  const { rule_events: ids, connection, deferrals } = payload as { rule_events?: unknown; connection?: unknown; deferrals?: unknown };
  const waited = typeof deferrals === "number" ? deferrals : 0;
  if (typeof connection === "string") {
    await drainConnection(deps, connection, waited);
    return;
  }
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) {
    deps.log.error({ payload }, "deliver job without a rule_events list or a connection; dropped");
    return;
  }
  await deliverBatch(deps, ids, waited);
}
