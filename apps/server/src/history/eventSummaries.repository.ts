import type { Db, EventStatus, EventsTable } from "@switchyard/db";
import type { Selectable } from "kysely";
import { fetchPage, type PageWindow } from "../http/cursorPage.js";
import { organizationWorkspaceIds } from "../workspaces/workspaces.repository.js";
import { statusesMatching } from "./meshesStatus.js";

/** What every answer about an event is made of (`toEventResource`)... */
const resourceColumns = ["id", "workspace_id", "event", "resource", "resource_id", "status", "created_by", "created_at"] as const;
/** ...and the delivery counters the read API adds. */
const counterColumns = ["total_rules", "completed_count", "failed_count", "started_at", "completed_at"] as const;
const summaryColumns = [...resourceColumns, ...counterColumns] as const;

/** An event as the read API shows it: what ingestion stored plus its delivery counters. */
export type EventSummaryRow = Pick<Selectable<EventsTable>, (typeof summaryColumns)[number]>;

export async function findEventSummary(db: Db, organizationId: string, id: string): Promise<EventSummaryRow | undefined> {
  return db
    .selectFrom("events")
    .select(summaryColumns)
    .where("events.id", "=", id)
    .where("events.workspace_id", "in", organizationWorkspaceIds(db, organizationId))
    .executeTakeFirst();
}

export async function findEventPayload(
  db: Db,
  organizationId: string,
  id: string,
): Promise<(EventSummaryRow & { readonly payload: unknown }) | undefined> {
  return db
    .selectFrom("events")
    .select([...summaryColumns, "payload"])
    .where("events.id", "=", id)
    .where("events.workspace_id", "in", organizationWorkspaceIds(db, organizationId))
    .executeTakeFirst();
}

export interface EventFilter {
  /** Checked by the caller to be the organization's. */
  readonly workspaceId?: string | undefined;
  readonly event?: string | undefined;
  readonly status?: EventStatus | undefined;
  readonly resource?: string | undefined;
  readonly resourceId?: string | undefined;
}

/** The columns of an event that each of its deliveries repeats in Meshes' shape. */
export type DeliveryEventRow = Pick<Selectable<EventsTable>, "event" | "resource" | "resource_id" | "created_by">;

/** Those columns of an event the caller has already found to be the organization's. */
export async function findDeliveryEvent(db: Db, eventId: string): Promise<DeliveryEventRow> {
  return db
    .selectFrom("events")
    .select(["event", "resource", "resource_id", "created_by"])
    .where("id", "=", eventId)
    .executeTakeFirstOrThrow();
}

/** One page of the organization's events, newest first (`fetchPage`). */
export async function listEventSummaries(
  db: Db,
  organizationId: string,
  filter: EventFilter,
  page: PageWindow,
): Promise<EventSummaryRow[]> {
  let query = db
    .selectFrom("events")
    .select(summaryColumns)
    .where("events.workspace_id", "in", organizationWorkspaceIds(db, organizationId));
  if (filter.workspaceId !== undefined) query = query.where("events.workspace_id", "=", filter.workspaceId);
  if (filter.event !== undefined) query = query.where("events.event", "=", filter.event);
  if (filter.status !== undefined) query = query.where("events.status", "in", statusesMatching(filter.status));
  if (filter.resource !== undefined) query = query.where("events.resource", "=", filter.resource);
  if (filter.resourceId !== undefined) query = query.where("events.resource_id", "=", filter.resourceId);
  return fetchPage(query, "events.id", "desc", page);
}
