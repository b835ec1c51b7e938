import { type ColumnType, sql } from "kysely";
import type { Db } from "../db/database.js";

export interface EventsTable {
  id: string;
  workspace_id: string;
  event: string;
  resource: string | null;
  resource_id: string | null;
  payload: unknown;
  status: string;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
  // Delivery counters (0003_routing): ingestion sets the initial ones, then the rule_events status trigger
  // alone keeps them (and `status`) in step, so nothing else may write them.
  total_rules: ColumnType<number, number | undefined, never>;
  completed_count: ColumnType<number, number | undefined, never>;
  failed_count: ColumnType<number, number | undefined, never>;
  canceled_count: ColumnType<number, number | undefined, never>;
  started_at: ColumnType<Date | null, Date | null | undefined, never>;
  completed_at: ColumnType<Date | null, Date | null | undefined, never>;
}

export interface NewEventRow {
  readonly id: string;
  readonly workspace_id: string;
  readonly event: string;
  readonly resource: string | null;
  readonly resource_id: string | null;
  /** The payload, already serialized (validation measured it); spliced into the batch unchanged. */
  readonly payloadJson: string;
  readonly created_by: string;
  /** With a key, the row is stored only if it claims the key (see insertEvents). */
  readonly idempotency_key?: string;
}

export interface InsertedEvents {
  /** The shared creation time of the stored rows (`now()` is fixed for the statement). */
  readonly createdAt: Date;
  /**
   * The rows stored, with the status routing gave them; a keyed row whose key was already taken is not
   * among them.
   */
  readonly stored: ReadonlyMap<string, EventStatus>;
}

export type EventStatus = "pending" | "processing" | "retrying" | "completed" | "failed" | "canceled";

/** The graphile-worker task that delivers a batch of rule events; its payload is `{ rule_events: uuid[] }`. */
export const deliverTask = "deliver";

/**
 * Stores a batch of events and routes them, in one statement (so one commit), every row passed in a
 * single jsonb parameter (the cheapest durable path measured here):
 *
 * - A row with an idempotency key is stored only if it claims the key: a new key, or one whose retention
 *   expired. Concurrent claims of a key serialize on the primary key of `idempotency_keys`, so exactly one
 *   statement stores the event; the others store nothing for that row, and the caller reads what the key
 *   names with a new statement (this one's snapshot cannot see a concurrent commit). Keys must be unique
 *   within one call.
 * - Every active rule of the event's workspace whose filters match becomes a rule event (a delivery):
 *   `pending` for an active connection, `failed` at once (saying why) for a deactivated one. Rules are read
 *   in this statement's snapshot, so a rule created after the event never applies to it.
 * - One graphile-worker job delivers the batch's pending rule events. It commits with the events, so an
 *   acknowledged event cannot lose its deliveries.
 * - An event with no matching rule is `completed` at once; one whose deliveries all failed at once, `failed`.
 */
export async function insertEvents(db: Db, rows: readonly NewEventRow[], idempotencyTtlSeconds: number): Promise<InsertedEvents> {
  const batch = `[${rows.map(serializeRow).join(",")}]`;
  const result = await sql<{ created_at: Date; stored: Array<[string, EventStatus]> | null }>`
    with input as (
      select * from jsonb_to_recordset(${batch}::jsonb) as r(
        id uuid, workspace_id uuid, event text, resource text, resource_id text, payload jsonb, created_by text,
        idempotency_key text)
    ),
    claimed as (
      insert into idempotency_keys (workspace_id, key, event_id, expires_at)
      select workspace_id, idempotency_key, id, now() + make_interval(secs => ${idempotencyTtlSeconds})
      from input where idempotency_key is not null
      on conflict (workspace_id, key) do update
        set event_id = excluded.event_id, expires_at = excluded.expires_at
        where idempotency_keys.expires_at <= now()
      returning event_id
    ),
    fresh as (
      select * from input where idempotency_key is null or id in (select event_id from claimed)
    ),
    matches as (
      select f.id as event_id, f.workspace_id, r.id as rule_id, r.connection_id, c.integration_type, c.active, c.inactive_reason
      from fresh f
      join rules r on r.workspace_id = f.workspace_id and r.event = f.event and r.active
        and (r.resource is null or r.resource = f.resource)
        and (r.resource_id is null or r.resource_id = f.resource_id)
      join connections c on c.id = r.connection_id
    ),
    tally as (
      select event_id, count(*)::int as total, (count(*) filter (where not active))::int as dead from matches group by event_id
    ),
    inserted as (
      insert into events (id, workspace_id, event, resource, resource_id, payload, status, created_by, total_rules, failed_count, completed_at)
      select f.id, f.workspace_id, f.event, f.resource, f.resource_id, f.payload,
        case when t.total is null then 'completed' when t.total = t.dead then 'failed' else 'pending' end,
        f.created_by, coalesce(t.total, 0), coalesce(t.dead, 0),
        case when t.total is null or t.total = t.dead then now() end
      from fresh f left join tally t on t.event_id = f.id
      returning id, status
    ),
    routed as (
      insert into rule_events (id, event_id, workspace_id, rule_id, connection_id, integration_type, status, last_error, completed_at)
      select gen_random_uuid(), event_id, workspace_id, rule_id, connection_id, integration_type,
        case when active then 'pending' else 'failed' end,
        case when active then null else 'connection inactive: ' || coalesce(inactive_reason, 'deactivated') end,
        case when active then null else now() end
      from matches
      returning id, status
    ),
    job as (
      select graphile_worker.add_job(${deliverTask}, json_build_object('rule_events', pending.ids)) as id
      from (select json_agg(id) as ids from routed where status = 'pending') pending
      where pending.ids is not null
    )
    select now() as created_at,
      (select json_agg(json_build_array(id, status)) from inserted) as stored,
      (select count(*) from job) as jobs`.execute(db);
  const row = result.rows[0];
  if (row === undefined) throw new Error("insertEvents: the statement returned no row");
  return { createdAt: row.created_at, stored: new Map(row.stored ?? []) };
}

function serializeRow(row: NewEventRow): string {
  const key = row.idempotency_key === undefined ? "" : `,"idempotency_key":${JSON.stringify(row.idempotency_key)}`;
  return (
    `{"id":"${row.id}","workspace_id":"${row.workspace_id}","event":${JSON.stringify(row.event)},` +
    `"resource":${JSON.stringify(row.resource)},"resource_id":${JSON.stringify(row.resource_id)},` +
    `"created_by":${JSON.stringify(row.created_by)}${key},"payload":${row.payloadJson}}`
  );
}
