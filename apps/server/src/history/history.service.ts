import type {
  Attempt,
  AttemptList,
  EventDetail,
  EventList,
  EventPayload,
  EventStatusDetail,
  EventSummary,
  IntegrationType,
  OutcomeCode,
  RuleEvent,
} from "@switchyard/client";
import { type Db, inSnapshot } from "@switchyard/db";
import { pageWindow, toPage } from "../http/cursorPage.js";
import { NotFoundError } from "../http/errors.js";
import { optionalField } from "../http/optionalField.js";
import { mustFindWorkspace } from "../workspaces/workspaces.service.js";
import { type DeliveryRow, findDelivery, findEventDeliveries } from "./deliveries.repository.js";
import { type DeliveryAttemptRow, listDeliveryAttempts } from "./deliveryAttempts.repository.js";
import {
  type DeliveryEventRow,
  type EventFilter,
  type EventSummaryRow,
  findEventPayload,
  findEventSummary,
  listEventSummaries,
} from "./eventSummaries.repository.js";
import { meshesStatus } from "./meshesStatus.js";

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

/** The event as `GET /events/{id}` shows it, without its deliveries, and its payload (Meshes' shape). */
export async function getEventPayload(db: Db, organizationId: string, id: string): Promise<EventPayload> {
  const row = await findEventPayload(db, organizationId, id);
  if (row === undefined) throw new NotFoundError("Event not found.");
  return { ...toEventSummary(row), payload: row.payload as EventPayload["payload"] };
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
  return { ...toEventSummary(summary), rule_events: deliveries.map((row) => toDelivery(row, summary)) };
}

export function deliveryNotFound(): NotFoundError {
  return new NotFoundError("No delivery of this event through this rule.");
}

/** An event in Meshes' shape with its delivery counters; what Meshes declares optional is left out when unset. */
function toEventSummary(row: EventSummaryRow): EventSummary {
  const status = row.status as EventStatusDetail;
  return {
    id: row.id,
    type: "event",
    workspace: row.workspace_id,
    event: row.event,
    resource: row.resource ?? "global",
    ...optionalField("resource_id", row.resource_id),
    status: meshesStatus(status),
    status_detail: status,
    total_rules: row.total_rules,
    completed_count: row.completed_count,
    failed_count: row.failed_count,
    ...optionalField("started_at", row.started_at?.toISOString()),
    ...optionalField("completed_at", row.completed_at?.toISOString()),
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
  };
}

/** A delivery in Meshes' shape (a "rule event"): it repeats its event's name, resource and creator. */
export function toDelivery(row: DeliveryRow, event: DeliveryEventRow): RuleEvent {
  return {
    id: row.id,
    type: "rule",
    workspace: row.workspace_id,
    event: event.event,
    event_id: row.event_id,
    ...optionalField("resource", event.resource),
    ...optionalField("resource_id", event.resource_id),
    rule: row.rule_id,
    connection: row.connection_id,
    integration_type: row.integration_type as IntegrationType,
    status: meshesStatus(row.status),
    status_detail: row.status,
    attempt_count: row.attempt_count,
    ...optionalField("next_attempt_at", row.next_attempt_at?.toISOString()),
    ...optionalField("started_at", row.started_at?.toISOString()),
    ...optionalField("completed_at", row.completed_at?.toISOString()),
    ...optionalField("last_error", row.last_error),
    created_by: event.created_by,
    created_at: row.created_at.toISOString(),
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
