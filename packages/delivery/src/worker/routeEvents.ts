import { sql } from "kysely";
import type { DeliveryDb } from "./deliveryStore.js";

/** The task ingestion queues with every batch of events that match a rule (the server's `routeTask`). */
export const routeTask = "route";

export interface RouteJob {
  /** Events ingestion stored as matching at least one rule. */
  readonly events: readonly string[];
  /** The active rules of those events' workspaces and names in ingestion's snapshot. */
  readonly rules: readonly string[];
}

/** The payload of a `route` job, or undefined when it is not one. */
export function parseRouteJob(payload: unknown): RouteJob | undefined {
  if (typeof payload !== "object" || payload === null) return undefined;
  const { events, rules } = payload as { events?: unknown; rules?: unknown };
  const uuids = (value: unknown): value is string[] => Array.isArray(value) && value.every((id) => typeof id === "string");
  return uuids(events) && uuids(rules) ? { events, rules } : undefined;
}

/**
 * Writes the deliveries (rule events) of a batch of stored events, one per rule among `job.rules` that
 * matches the event, in one statement, and answers the ids of the batch's deliveries that wait for a first
 * attempt (`pending`: those just written and any an earlier run wrote), for the caller to deliver.
 *
 * - Only the rules ingestion saw are applied, whatever happened to rules since: a rule created after the
 *   event never applies to it, and one deleted after it still delivers it (as if its delivery had been
 *   written at ingestion).
 * - A delivery to a deactivated connection is `failed` at once, saying why, and counted on its event.
 * - An event canceled before it was routed gets its deliveries as `canceled` (the cancel already counted them).
 * - Running a job twice, even at once, writes nothing twice: a delivery is unique by (event, rule), and the
 *   second statement waits for the first one's rows and then skips them. The events are read `for share`,
 *   so a cancel (which locks its event first) happens entirely before or entirely after routing.
 */
export async function routeEvents(db: DeliveryDb, job: RouteJob): Promise<{ routed: number; pending: string[] }> {
  const result = await sql<{ matched: number; routed: number; pending: string[] }>`
    with batch as (
      select id, workspace_id, event, resource, resource_id, status from events
      where id = any(${job.events}::uuid[]) order by id for share
    ),
    matches as (
      select b.id as event_id, b.workspace_id, b.status as event_status, r.id as rule_id, r.connection_id,
        c.integration_type, c.active, c.inactive_reason
      from batch b
      join rules r on r.id = any(${job.rules}::uuid[]) and r.workspace_id = b.workspace_id and r.event = b.event
        and (r.resource is null or r.resource = b.resource)
        and (r.resource_id is null or r.resource_id = b.resource_id)
      join connections c on c.id = r.connection_id
    ),
    routed as (
      insert into rule_events (id, event_id, workspace_id, rule_id, connection_id, integration_type, status, last_error, completed_at)
      select gen_random_uuid(), event_id, workspace_id, rule_id, connection_id, integration_type,
        case when event_status = 'canceled' then 'canceled' when active then 'pending' else 'failed' end,
        case when event_status <> 'canceled' and not active then 'connection inactive: ' || coalesce(inactive_reason, 'deactivated') end,
        case when event_status = 'canceled' or not active then now() end
      from matches
      on conflict (event_id, rule_id) do nothing
      returning id, event_id, status
    ),
    dead as (
      select event_id, count(*)::int as n from routed where status = 'failed' group by event_id
    ),
    counted as (
      update events e set
        failed_count = e.failed_count + d.n,
        status = case when e.completed_count + e.failed_count + d.n + e.canceled_count < e.total_rules then e.status else 'failed' end,
        completed_at = case when e.completed_count + e.failed_count + d.n + e.canceled_count < e.total_rules then e.completed_at else now() end
      from dead d where e.id = d.event_id
    )
    select (select count(*) from matches)::int as matched, (select count(*) from routed)::int as routed,
      (select coalesce(json_agg(id), '[]') from routed where status = 'pending') as pending`.execute(db);
  const { matched = 0, routed = 0, pending = [] } = result.rows[0] ?? {};
  if (routed === matched) return { routed, pending };
  // An earlier or concurrent run wrote some: a new statement (so a new snapshot) sees all of them.
  const all = await sql<{ id: string }>`
    select id from rule_events where event_id = any(${job.events}::uuid[]) and status = 'pending'`.execute(db);
  return { routed, pending: all.rows.map((r) => r.id) };
}

/**
 * Gives a new `route` job to the events of every `route` job that has been locked for longer than
 * `staleAfterMs` (routing a batch and claiming its deliveries take milliseconds) and whose events are still
 * unrouted: its worker died with it, and graphile-worker would retry it only after hours. The stale job is
 * left alone (unlocking it, or its worker's other jobs, could let a keyed job of a live worker be replaced
 * while it runs, and lost); when it runs again hours later it writes nothing. Routing writes every event of
 * a job in one statement, and at least one delivery per event, so the job's first event tells whether the
 * job's routing happened. The payload is read from graphile-worker's table (its public view omits it).
 * Answers how many jobs were given again.
 */
export async function requeueStaleRouting(db: DeliveryDb, staleAfterMs: number): Promise<number> {
  // The stale jobs are chosen first (materialized), so that no job is added for a row a later filter drops.
  const result = await sql<{ id: string }>`
    with stale as materialized (
      select j.id, p.payload from graphile_worker.jobs j
      join graphile_worker._private_jobs p on p.id = j.id
      where j.task_identifier = ${routeTask} and j.locked_at < now() - make_interval(secs => ${staleAfterMs / 1000})
        and not exists (select 1 from rule_events re where re.event_id = (p.payload -> 'events' ->> 0)::uuid)
    )
    select stale.id from stale
    cross join lateral graphile_worker.add_job(${routeTask}, stale.payload, job_key := 'route-again:' || stale.id,
      job_key_mode := 'preserve_run_at') as again`.execute(db);
  return result.rows.length;
}
