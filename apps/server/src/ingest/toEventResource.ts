import type { Event } from "@switchyard/client";

/** The stored columns every answer about an event is made of. */
export interface EventColumns {
  readonly id: string;
  readonly workspace_id: string;
  readonly event: string;
  readonly resource: string | null;
  readonly resource_id: string | null;
  readonly status: string;
  readonly created_by: string;
  readonly created_at: Date;
}

/**
 * An event as the API shows it: `id`, `type: "event"`, `workspace`, `event`, `resource`, `resource_id`, `status`,
 * `created_by`, `created_at`. The read API adds its delivery counters to this.
 */
export function toEventResource(row: EventColumns): Event {
  return eventResourceOf(row, row.status, row.created_at.toISOString());
}

/**
 * The same from the row's other columns, its status and its creation time already formatted: ingestion
 * formats its batch's one creation time once and builds each record straight from the row it stored.
 */
export function eventResourceOf(row: Omit<EventColumns, "status" | "created_at">, status: string, createdAtIso: string): Event {
  return {
    id: row.id,
    type: "event",
    workspace: row.workspace_id,
    event: row.event,
    resource: row.resource,
    resource_id: row.resource_id,
    status: status as Event["status"],
    created_by: row.created_by,
    created_at: createdAtIso,
  };
}
