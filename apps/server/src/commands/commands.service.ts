import type { EventDetail, ReplayInput, ReplayResult, RuleEvent } from "@switchyard/client";
import { type Db, inTransaction } from "@switchyard/db";
import { findConnection } from "../connections/connections.repository.js";
import { type DeliveryRow, findDelivery } from "../history/deliveries.repository.js";
import { findDeliveryEvent, findEventSummary } from "../history/eventSummaries.repository.js";
import { deliveryNotFound, readEventDetail, toDelivery } from "../history/history.service.js";
import { type ApiError, BadRequestError, ConflictError, NotFoundError, TooEarlyError } from "../http/errors.js";
import { findWorkspace } from "../workspaces/workspaces.repository.js";
import {
  cancelUnfinishedDeliveries,
  cancelUnroutedEvent,
  countReplayable,
  type ReplaySelection,
  requeueFinishedDelivery,
  requeueReplayBatch,
} from "./commands.repository.js";
import { scheduleDeliveriesNow, unscheduleDeliveries } from "./deliveryJobs.repository.js";

/** How far back a replay may reach (Switchyard decision, see `POST /replays`). */
export const replayWindowMs = 14 * 24 * 3600 * 1000;
/** Deliveries queued per replay transaction: each batch commits with its jobs, and holds its row locks briefly. */
const replayBatchSize = 500;

/**
 * Delivers a finished delivery again, now, on a fresh retry schedule; its job commits with it. 425 while an
 * attempt is due or running: the status is checked by the update itself, so a retry racing an attempt (or
 * another retry) cannot queue it twice.
 */
export async function retryDelivery(db: Db, organizationId: string, eventId: string, ruleId: string): Promise<RuleEvent> {
  return changeDelivery(
    db,
    organizationId,
    { eventId, ruleId },
    {
      change: (trx) => requeueFinishedDelivery(trx, organizationId, eventId, ruleId),
      refusal: () => new TooEarlyError("A delivery attempt is already due or running."),
      updateJobs: scheduleDeliveriesNow,
    },
  );
}

/** Cancels a delivery that has not finished and drops its waiting job; 409 once it has finished. */
export async function cancelDelivery(db: Db, organizationId: string, eventId: string, ruleId: string): Promise<RuleEvent> {
  return changeDelivery(
    db,
    organizationId,
    { eventId, ruleId },
    {
      change: async (trx) => (await cancelUnfinishedDeliveries(trx, organizationId, { eventId, ruleId }))[0],
      refusal: () => new ConflictError("The delivery already ended (completed, failed or canceled)."),
      updateJobs: unscheduleDeliveries,
    },
  );
}

/** One command on the delivery of an event through a rule; see changeDelivery. */
interface DeliveryChange {
  /** Changes the delivery if its status allows the command (the update checks it); undefined when it did not. */
  readonly change: (trx: Db) => Promise<DeliveryRow | undefined>;
  /** The answer when the delivery exists but its status refused the command. */
  readonly refusal: () => ApiError;
  /** Adds or removes the changed delivery's job, in the same transaction. */
  readonly updateJobs: (trx: Db, deliveryIds: readonly string[]) => Promise<void>;
}

/** Runs a delivery command in one transaction and answers the delivery as it now is; 404 when there is no such delivery. */
async function changeDelivery(
  db: Db,
  organizationId: string,
  target: { readonly eventId: string; readonly ruleId: string },
  command: DeliveryChange,
): Promise<RuleEvent> {
  return inTransaction(db, async (trx) => {
    const row = await command.change(trx);
    if (row === undefined) {
      if ((await findDelivery(trx, organizationId, target.eventId, target.ruleId)) === undefined) throw deliveryNotFound();
      throw command.refusal();
    }
    await command.updateJobs(trx, [row.id]);
    return toDelivery(row, await findDeliveryEvent(trx, row.event_id));
  });
}

/** Cancels every delivery of the event that has not finished (none is fine) and answers the event as it now is. */
export async function cancelEvent(db: Db, organizationId: string, id: string): Promise<EventDetail> {
  return inTransaction(db, async (trx) => {
    if ((await findEventSummary(trx, organizationId, id)) === undefined) throw new NotFoundError("Event not found.");
    if (await cancelUnroutedEvent(trx, id)) return readEventDetail(trx, organizationId, id);
    const canceled = await cancelUnfinishedDeliveries(trx, organizationId, { eventId: id });
    await unscheduleDeliveries(
      trx,
      canceled.map((r) => r.id),
    );
    return readEventDetail(trx, organizationId, id);
  });
}

/**
 * Delivers again the failed deliveries of one workspace or connection created in `[from, to)`; only counts
 * them when `dry_run` (the default). A deleted connection is not found, like an unknown one. The real run goes in batches, each committed with its jobs, so a
 * failure part-way leaves the queued batches queued and the rest failed, ready for another replay.
 */
export async function replayFailedDeliveries(
  db: Db,
  organizationId: string,
  input: ReplayInput,
  now: Date = new Date(),
): Promise<ReplayResult> {
  const selection = replaySelection(input, now);
  const found =
    "workspaceId" in selection.scope
      ? (await findWorkspace(db, organizationId, selection.scope.workspaceId)) !== undefined
      : (await findConnection(db, organizationId, selection.scope.connectionId)) !== undefined;
  if (!found) throw new NotFoundError("workspaceId" in selection.scope ? "Workspace not found." : "Connection not found.");

  const dryRun = input.dry_run ?? true;
  if (dryRun) return { count: await countReplayable(db, selection), dry_run: true };
  let count = 0;
  let afterId: string | undefined;
  for (;;) {
    const ids = await inTransaction(db, async (trx) => {
      const batch = await requeueReplayBatch(trx, selection, { afterId, limit: replayBatchSize });
      await scheduleDeliveriesNow(trx, batch);
      return batch;
    });
    count += ids.length;
    afterId = ids.at(-1);
    if (ids.length < replayBatchSize) return { count, dry_run: false };
  }
}

function replaySelection(input: ReplayInput, now: Date): ReplaySelection {
  if ((input.workspace === undefined) === (input.connection === undefined)) {
    const msg = "exactly one of workspace and connection is required";
    throw new BadRequestError("Name exactly one of workspace or connection.", [
      { param: "workspace", msg },
      { param: "connection", msg },
    ]);
  }
  const from = new Date(input.from);
  const to = input.to === undefined ? now : new Date(input.to);
  if (from.getTime() < now.getTime() - replayWindowMs) {
    throw new BadRequestError("A replay reaches at most 14 days back.", [{ param: "from", msg: "must be at most 14 days ago" }]);
  }
  if (to.getTime() <= from.getTime()) {
    throw new BadRequestError("The replay window is empty.", [{ param: "to", msg: "must be after from (default: now)" }]);
  }
  const scope = input.workspace !== undefined ? { workspaceId: input.workspace } : { connectionId: input.connection as string };
  return { scope, from, to };
}
