import type { Database, Db, EventsTable } from "@switchyard/db";
import type { ExpressionBuilder, Selectable } from "kysely";
import type { EventStatus } from "../events/events.repository.js";

/** An event as the read API shows it: what ingestion stored plus its delivery counters. */
export type EventSummaryRow = Pick<
  Selectable<EventsTable>,
  | "id"
  | "workspace_id"
  | "event"
  | "resource"
  | "resource_id"
  | "status"
  | "created_by"
  | "created_at"
  | "total_rules"
  | "completed_count"
  | "failed_count"
  | "started_at"
  | "completed_at"
>;

const summaryColumns = [
  "events.id",
  "events.workspace_id",
  "events.event",
  "events.resource",
  "events.resource_id",
  "events.status",
  "events.created_by",
  "events.created_at",
  "events.total_rules",
  "events.completed_count",
  "events.failed_count",
  "events.started_at",
  "events.completed_at",
] as const;

/** Events are scoped to the caller through their workspace: another organization's are never matched. */
function ofOrganization(organizationId: string) {
  return (eb: ExpressionBuilder<Database, "events">) =>
    eb(
      "events.workspace_id",
      "in",
      eb.selectFrom("workspaces").select("workspaces.id").where("workspaces.organization_id", "=", organizationId),
    );
}

export async function findEventSummary(db: Db, organizationId: string, id: string): Promise<EventSummaryRow | undefined> {
  return db
    .selectFrom("events")
    .select(summaryColumns)
    .where("events.id", "=", id)
    .where(ofOrganization(organizationId))
    .executeTakeFirst();
}

export async function findEventPayload(db: Db, organizationId: string, id: string): Promise<{ id: string; payload: unknown } | undefined> {
  return db
    .selectFrom("events")
    .select(["events.id", "events.payload"])
    .where("events.id", "=", id)
    .where(ofOrganization(organizationId))
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

/**
 * One page of the organization's events, newest first (ids are UUIDv7, so id order is creation order),
 * below `beforeId` when given. Keyset paging keeps later pages stable while events arrive: a new event
 * sorts before page one. Fetches one extra row to tell whether more follow.
 */
export async function listEventSummaries(
  db: Db,
  organizationId: string,
  filter: EventFilter,
  page: { readonly limit: number; readonly beforeId?: string | undefined },
): Promise<EventSummaryRow[]> {
  let query = db.selectFrom("events").select(summaryColumns).where(ofOrganization(organizationId));
  if (filter.workspaceId !== undefined) query = query.where("events.workspace_id", "=", filter.workspaceId);
  if (filter.event !== undefined) query = query.where("events.event", "=", filter.event);
  if (filter.status !== undefined) query = query.where("events.status", "=", filter.status);
  if (filter.resource !== undefined) query = query.where("events.resource", "=", filter.resource);
  if (filter.resourceId !== undefined) query = query.where("events.resource_id", "=", filter.resourceId);
  if (page.beforeId !== undefined) query = query.where("events.id", "<", page.beforeId);
  return query
    .orderBy("events.id", "desc")
    .limit(page.limit + 1)
    .execute();
}
