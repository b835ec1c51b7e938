import { routeJobKey, routeTask } from "./jobs.js";
import { preparedStatement, runStatement, type StatementRunner } from "./statements.js";

/** What one `routeOutbox` call did. */
export interface OutboxRouting {
  /** Outbox rows taken (each an ingested batch); fewer than asked means the outbox was empty to this snapshot. */
  readonly batches: number;
  /** Deliveries written. */
  readonly routed: number;
  /** The taken events' deliveries that wait for a first attempt, for the caller to deliver. */
  readonly pending: string[];
}

const routeOutboxStatement = preparedStatement("route_outbox");
const pendingDeliveriesOfEvents = preparedStatement("pending_deliveries_of_events");
const queueRoutingStatement = preparedStatement("queue_routing");
const wakeStaleRoutingStatement = preparedStatement("wake_stale_routing");

/**
 * Takes up to `maxBatches` of the oldest routing outbox rows and writes their events' deliveries, one per rule
 * named in the row that matches the event (sql/route_outbox.sql says how), deleting the rows in the same
 * transaction, so a worker that dies mid-way leaves them for the next run.
 */
export async function routeOutbox(runner: StatementRunner, maxBatches: number): Promise<OutboxRouting> {
  const [row] = await runStatement<{ batches: number; matched: number; routed: number; pending: string[]; events: string[] | null }>(
    runner,
    routeOutboxStatement,
    [maxBatches],
  );
  const { batches = 0, routed = 0, pending = [], events = null } = row ?? {};
  if (events === null) return { batches, routed, pending };
  // Deliveries written earlier are not in this statement's answer: a new statement (so a new snapshot) sees them.
  const all = await runStatement<{ id: string }>(runner, pendingDeliveriesOfEvents, [events]);
  return { batches, routed, pending: all.map((r) => r.id) };
}

/**
 * Makes sure a `route` job will run after this call: updates the waiting one (bringing it forward), or adds one
 * when none waits (none at all, or the only one is running and so may not see what was just committed). Its
 * commit is asynchronous, so it costs no flush to disk (`wakeStaleRouting` makes up for a lost one).
 */
export async function queueRouting(runner: StatementRunner): Promise<void> {
  await runStatement(runner, queueRoutingStatement, [routeTask, routeJobKey]);
}

/**
 * Wakes the `route` task when an outbox row has waited longer than `olderThanMs` and no `route` job is due or
 * running: the wake was lost (the ingesting process died between its commit and the wake, or the database
 * before the wake's asynchronous commit), or the job died with its worker, locked for longer than `staleAfterMs`
 * (graphile-worker would free it only after hours; the new job takes over the key). Answers whether it woke it.
 */
export async function wakeStaleRouting(runner: StatementRunner, olderThanMs: number, staleAfterMs: number): Promise<boolean> {
  const [waiting] = await runStatement<{ stale: boolean | null }>(runner, wakeStaleRoutingStatement, [
    olderThanMs / 1000,
    staleAfterMs / 1000,
    routeTask,
  ]);
  if (waiting?.stale !== true) return false;
  await queueRouting(runner);
  return true;
}
