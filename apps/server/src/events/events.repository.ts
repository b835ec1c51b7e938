import type pg from "pg";

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
  /** Whether the statement wrote routing work (an outbox row): the caller then wakes the worker (`queueRouting`). */
  readonly routed: boolean;
}

export type EventStatus = "pending" | "processing" | "retrying" | "completed" | "failed" | "canceled";

/**
 * Stores a batch of events in one statement (so one commit), every row passed in a single jsonb parameter
 * (the cheapest durable path measured here), with the routing work they need:
 *
 * - A row with an idempotency key is stored only if it claims the key: a new key, or one whose retention
 *   expired. Concurrent claims of a key serialize on the primary key of `idempotency_keys`, so exactly one
 *   statement stores the event; the others store nothing for that row, and the caller reads what the key
 *   names with a new statement (this one's snapshot cannot see a concurrent commit). Keys must be unique
 *   within one call.
 * - The active rules of the batch's workspaces and event names are read in this statement's snapshot (a rule
 *   created after the event never applies to it). Each event gets `total_rules`, the number that match it.
 *   An event that matches none is `completed` at once; the others are `pending`, and one row of the routing
 *   outbox (`route_outbox`), committed with them, names them and the rules. The worker's `route` task
 *   (`routeOutbox` in @switchyard/delivery) writes their deliveries (rule events) moments later, so an
 *   acknowledged event cannot lose its deliveries, while the ingest commit writes one small row per batch
 *   instead of a delivery row, with four index entries, per event, and no graphile-worker job (whose `add_job`
 *   and `NOTIFY` cost more than the row).
 */
export async function insertEvents(
  pool: StatementRunner,
  rows: readonly NewEventRow[],
  idempotencyTtlSeconds: number,
): Promise<InsertedEvents> {
  const batch = `[${rows.map(serializeRow).join(",")}]`;
  const result = await pool.query<{ created_at: Date; stored: Array<[string, EventStatus]> | null; routed: boolean }>({
    name: "switchyard_insert_events",
    text: insertEventsStatement,
    values: [batch, idempotencyTtlSeconds],
  });
  const row = result.rows[0];
  if (row === undefined) throw new Error("insertEvents: the statement returned no row");
  return { createdAt: row.created_at, stored: new Map(row.stored ?? []), routed: row.routed };
}

/**
 * What `insertEvents` runs its statement on: the server's pg pool. The statement is prepared by name, once
 * per pooled connection, so PostgreSQL plans it once there instead of on every batch (its planning cost about
 * as much as a few rows' insert).
 */
export type StatementRunner = Pick<pg.Pool, "query">;

const insertEventsStatement = `
    with input as (
      select * from jsonb_to_recordset($1::jsonb) as r(
        id uuid, workspace_id uuid, event text, resource text, resource_id text, payload jsonb, created_by text,
        idempotency_key text)
    ),
    claimed as (
      insert into idempotency_keys (workspace_id, key, event_id, expires_at)
      select workspace_id, idempotency_key, id, now() + make_interval(secs => $2::int)
      from input where idempotency_key is not null
      on conflict (workspace_id, key) do update
        set event_id = excluded.event_id, expires_at = excluded.expires_at
        where idempotency_keys.expires_at <= now()
      returning event_id
    ),
    fresh as (
      select * from input where idempotency_key is null or id in (select event_id from claimed)
    ),
    candidates as (
      select r.id, r.workspace_id, r.event, r.resource, r.resource_id from rules r
      where r.active and (r.workspace_id, r.event) in (select distinct workspace_id, event from input)
    ),
    counted as (
      -- The per-event count runs only when some rule is a candidate: for a batch no rule matches (the
      -- common case of a workspace without rules) it would otherwise cost a subquery per event.
      select f.*, case when not exists (select from candidates) then 0 else (
        select count(*)::int from candidates c
        where c.workspace_id = f.workspace_id and c.event = f.event
          and (c.resource is null or c.resource = f.resource) and (c.resource_id is null or c.resource_id = f.resource_id)
      ) end as total
      from fresh f
    ),
    inserted as (
      insert into events (id, workspace_id, event, resource, resource_id, payload, status, created_by, total_rules, completed_at)
      select id, workspace_id, event, resource, resource_id, payload,
        case when total = 0 then 'completed' else 'pending' end, created_by, total,
        case when total = 0 then now() end
      from counted
      returning id, status
    ),
    outbox as (
      insert into route_outbox (events, rules)
      select routed.ids, (select array_agg(id) from candidates)
      from (select array_agg(id) as ids from inserted where status = 'pending') routed
      where routed.ids is not null
      returning id
    )
    select now() as created_at,
      (select json_agg(json_build_array(id, status)) from inserted) as stored,
      exists (select from outbox) as routed`;

function serializeRow(row: NewEventRow): string {
  const key = row.idempotency_key === undefined ? "" : `,"idempotency_key":${JSON.stringify(row.idempotency_key)}`;
  return (
    `{"id":"${row.id}","workspace_id":"${row.workspace_id}","event":${JSON.stringify(row.event)},` +
    `"resource":${JSON.stringify(row.resource)},"resource_id":${JSON.stringify(row.resource_id)},` +
    `"created_by":${JSON.stringify(row.created_by)}${key},"payload":${row.payloadJson}}`
  );
}
