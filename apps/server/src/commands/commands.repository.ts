import type { Database, Db, EventStatus } from "@switchyard/db";
import { type ExpressionBuilder, sql } from "kysely";
import { type DeliveryRow, deliveryColumns } from "../history/deliveries.repository.js";
import { organizationWorkspaceIds } from "../workspaces/workspaces.repository.js";

/** A delivery with an attempt due or running: a retry would be too early, a cancel stops it. */
export const unfinishedStatuses: readonly EventStatus[] = ["pending", "processing", "retrying"];
/** A delivery that ended: it may be retried (delivered again), not canceled. */
export const finishedStatuses: readonly EventStatus[] = ["completed", "failed", "canceled"];

/** The values that queue a delivery again now, on a fresh retry schedule (the worker claims `pending` ones). */
function requeued(eb: ExpressionBuilder<Database, "rule_events">) {
  return {
    status: "pending" as const,
    retry_base: eb.ref("rule_events.attempt_count"),
    next_attempt_at: sql<Date>`now()`,
    lease_expires_at: null,
    completed_at: null,
    last_error: null,
  };
}

/**
 * Queues a finished delivery (completed, failed or canceled) again, now, with a fresh retry schedule.
 * Conditional on its status, so a concurrent attempt or retry cannot be doubled: undefined when the
 * delivery does not exist (for this organization) or has an attempt due or running. The caller must add
 * its job in the same transaction.
 */
export async function requeueFinishedDelivery(
  trx: Db,
  organizationId: string,
  eventId: string,
  ruleId: string,
): Promise<DeliveryRow | undefined> {
  return trx
    .updateTable("rule_events")
    .set(requeued)
    .where("event_id", "=", eventId)
    .where("rule_id", "=", ruleId)
    .where("status", "in", finishedStatuses)
    .where("rule_events.workspace_id", "in", organizationWorkspaceIds(trx, organizationId))
    .returning(deliveryColumns)
    .executeTakeFirst();
}

/**
 * Cancels the unfinished deliveries of an event (all of them, or the one through `ruleId`), returning
 * those canceled. Rows are locked in id order before any is updated, so two multi-row changes of one
 * event's deliveries queue rather than deadlock. A running attempt's late result does not overwrite
 * `canceled` (the worker records results only over `processing`). The caller must remove their jobs in
 * the same transaction.
 */
export async function cancelUnfinishedDeliveries(
  trx: Db,
  organizationId: string,
  target: { readonly eventId: string; readonly ruleId?: string | undefined },
): Promise<DeliveryRow[]> {
  let locked = trx
    .selectFrom("rule_events")
    .select("id")
    .where("event_id", "=", target.eventId)
    .where("status", "in", unfinishedStatuses)
    .where("rule_events.workspace_id", "in", organizationWorkspaceIds(trx, organizationId));
  if (target.ruleId !== undefined) locked = locked.where("rule_id", "=", target.ruleId);
  return trx
    .updateTable("rule_events")
    .set({ status: "canceled", completed_at: sql<Date>`now()`, next_attempt_at: null, lease_expires_at: null })
    .where("id", "in", locked.orderBy("id").forUpdate())
    .where("status", "in", unfinishedStatuses)
    .returning(deliveryColumns)
    .execute();
}

/** Which failed deliveries a replay selects: one workspace's or one connection's, created in `[from, to)`. */
export interface ReplaySelection {
  readonly scope: { readonly workspaceId: string } | { readonly connectionId: string };
  readonly from: Date;
  readonly to: Date;
}

function selected(selection: ReplaySelection) {
  return (eb: ExpressionBuilder<Database, "rule_events">) =>
    eb.and([
      "workspaceId" in selection.scope
        ? eb("rule_events.workspace_id", "=", selection.scope.workspaceId)
        : eb("rule_events.connection_id", "=", selection.scope.connectionId),
      eb("rule_events.status", "=", "failed"),
      eb("rule_events.created_at", ">=", selection.from),
      eb("rule_events.created_at", "<", selection.to),
    ]);
}

/** How many failed deliveries a replay would queue. The caller has checked that the scope is the organization's. */
export async function countReplayable(db: Db, selection: ReplaySelection): Promise<number> {
  const row = await db
    .selectFrom("rule_events")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where(selected(selection))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Queues again, like a retry, the next `limit` selected failed deliveries with an id above `afterId`
 * (locked in id order), and returns their ids in ascending order: the last one is where the next batch
 * starts, so each delivery is considered once even if it fails again while the replay runs. The caller
 * must add their jobs in the same transaction.
 */
export async function requeueReplayBatch(
  trx: Db,
  selection: ReplaySelection,
  page: { readonly afterId: string | undefined; readonly limit: number },
): Promise<string[]> {
  let batch = trx.selectFrom("rule_events").select("id").where(selected(selection));
  if (page.afterId !== undefined) batch = batch.where("id", ">", page.afterId);
  const rows = await trx
    .updateTable("rule_events")
    .set(requeued)
    .where("id", "in", batch.orderBy("id").limit(page.limit).forUpdate())
    .where("status", "=", "failed")
    .returning("id")
    .execute();
  // uuid order is the order of the canonical lowercase text, so a string sort agrees with PostgreSQL's.
  return rows.map((r) => r.id).sort();
}

/**
 * Cancels an event whose deliveries are not written yet (its `route` job has not run): every delivery it
 * will have counts as canceled, and routing then writes them `canceled`. Answers false, changing nothing,
 * for any other event. Routing reads its events `for share`: this locks the event first, so that the update
 * (a new statement, so a new snapshot) sees any deliveries routing committed while it waited. Only an event
 * that looked unrouted is locked, so cancels of routed events keep the lock order of the worker (delivery,
 * then its event).
 */
export async function cancelUnroutedEvent(trx: Db, id: string): Promise<boolean> {
  const unrouted = sql`status = 'pending' and total_rules > 0 and not exists (select 1 from rule_events where event_id = ${id})`;
  const locked = await sql`select id from events where id = ${id} and ${unrouted} for update`.execute(trx);
  if (locked.rows.length === 0) return false;
  const result = await sql`
    update events set canceled_count = total_rules, completed_at = now(),
      status = switchyard_event_status(total_rules, completed_count, failed_count, total_rules, started_at)
    where id = ${id} and ${unrouted}`.execute(trx);
  return (result.numAffectedRows ?? 0n) > 0n;
}
