import type {
  Attempt,
  AttemptList,
  EventDetail,
  EventList,
  EventPayload,
  EventSummary,
  IntegrationType,
  OutcomeCode,
  RuleEvent,
} from "@switchyard/client";
import { type Db, inSnapshot } from "@switchyard/db";
import { pageWindow, toPage } from "../http/cursorPage.js";
import { NotFoundError } from "../http/errors.js";
import { toEventResource } from "../ingest/toEventResource.js";
import { mustFindWorkspace } from "../workspaces/workspaces.service.js";
import { type DeliveryRow, findDelivery, findEventDeliveries } from "./deliveries.repository.js";
import { type DeliveryAttemptRow, listDeliveryAttempts } from "./deliveryAttempts.repository.js";
import {
  type EventFilter,
  type EventSummaryRow,
  findEventPayload,
  findEventSummary,
  listEventSummaries,
} from "./eventSummaries.repository.js";

/** Every lookup below is scoped to `organizationId`: another organization's records are "not found", never forbidden. */
export async function listEventPage(
  db: Db,
  organizationId: string,
  filter: EventFilter,
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<EventList> {
  const window = pageWindow(page);
  if (filter.workspaceId !== undefined) await mustFindWorkspace(db, organizationId, filter.workspaceId);
  const rows = await listEventSummaries(db, organizationId, filter, window);
  return toPage(rows, page.limit, toEventSummary);
}

export async function getEventDetail(db: Db, organizationId: string, id: string): Promise<EventDetail> {
  // One snapshot, so that the counters agree with the deliveries listed.
  return inSnapshot(db, (trx) => readEventDetail(trx, organizationId, id));
}

export async function getEventPayload(db: Db, organizationId: string, id: string): Promise<EventPayload> {
  const row = await findEventPayload(db, organizationId, id);
  if (row === undefined) throw new NotFoundError("Event not found.");
  return { id: row.id, type: "event", payload: row.payload as EventPayload["payload"] };
}

export async function listAttempts(db: Db, organizationId: string, eventId: string, ruleId: string): Promise<AttemptList> {
  const delivery = await findDelivery(db, organizationId, eventId, ruleId);
  if (delivery === undefined) throw deliveryNotFound();
  const records = (await listDeliveryAttempts(db, delivery.id)).map(toAttempt);
  return { count: records.length, records };
}

/** The event with its deliveries, read in `db` (a snapshot or the transaction of a command). */
export async function readEventDetail(db: Db, organizationId: string, id: string): Promise<EventDetail> {
  const summary = await findEventSummary(db, organizationId, id);
  if (summary === undefined) throw new NotFoundError("Event not found.");
  const deliveries = await findEventDeliveries(db, id);
  return { ...toEventSummary(summary), rule_events: deliveries.map(toDelivery) };
}

export function deliveryNotFound(): NotFoundError {
  return new NotFoundError("No delivery of this event through this rule.");
}

function toEventSummary(row: EventSummaryRow): EventSummary {
  return {
    ...toEventResource(row),
    total_rules: row.total_rules,
    completed_count: row.completed_count,
    failed_count: row.failed_count,
    started_at: row.started_at?.toISOString() ?? null,
    completed_at: row.completed_at?.toISOString() ?? null,
  };
}

export function toDelivery(row: DeliveryRow): RuleEvent {
  return {
    id: row.id,
    type: "rule_event",
    event_id: row.event_id,
    rule: row.rule_id,
    connection: row.connection_id,
    integration_type: row.integration_type as IntegrationType,
    status: row.status,
    attempt_count: row.attempt_count,
    next_attempt_at: row.next_attempt_at?.toISOString() ?? null,
    started_at: row.started_at?.toISOString() ?? null,
    completed_at: row.completed_at?.toISOString() ?? null,
    last_error: row.last_error,
  };
}

function toAttempt(row: DeliveryAttemptRow): Attempt {
  // The worker stores JSON null for "nothing came back" (a network error, a timeout).
  const hasResponse = row.response_headers !== null || row.response_body !== null;
  return {
    id: row.id,
    type: "attempt",
    attempt: row.attempt,
    outcome_code: row.outcome_code as OutcomeCode,
    http_status: row.http_status,
    duration_ms: row.duration_ms,
    started_at: row.started_at.toISOString(),
    completed_at: row.completed_at.toISOString(),
    next_attempt_at: row.next_attempt_at?.toISOString() ?? null,
    error: row.error,
    request: row.request,
    response: hasResponse ? { headers: row.response_headers ?? {}, body: row.response_body } : null,
  };
}
