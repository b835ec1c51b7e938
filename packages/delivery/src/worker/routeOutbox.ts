import type { StatementPool } from "./deliveryStore.js";

/**
 * The graphile-worker task that drains the routing outbox (`route_outbox`, migration 0008). Ingestion commits
 * one outbox row with every batch of events that match a rule, naming the events and the rules its snapshot
 * saw, and then wakes this task (`queueRouting`). It is one keyed job: at most one waits at a time, however
 * many batches arrive, and a wake while it runs queues the next one.
 */
export const routeTask = "route";
const routeJobKey = "route";

/**
 * Makes sure a `route` job will run after this call: updates the waiting one (bringing it forward), or adds one
 * when none waits (none at all, or the only one is running and so may not see what was just committed).
 *
 * Its commit is asynchronous: a wake lost in a database crash costs a delay, never a delivery, since the worker's
 * sweep wakes the task for any outbox row left waiting (`wakeStaleRouting`). So it costs no flush to disk.
 */
export async function queueRouting(pool: StatementPool): Promise<void> {
  await pool.query(
    `select set_config('synchronous_commit', 'off', true),
       graphile_worker.add_job('${routeTask}', '{}'::json, job_key := '${routeJobKey}')`,
  );
}

/** What one `routeOutbox` call did. */
export interface OutboxRouting {
  /** Outbox rows taken (each an ingested batch); fewer than asked means the outbox was empty to this snapshot. */
  readonly batches: number;
  /** Deliveries written. */
  readonly routed: number;
  /** The taken events' deliveries that wait for a first attempt, for the caller to deliver. */
  readonly pending: string[];
}

/**
 * Takes up to `maxBatches` of the oldest outbox rows and writes their events' deliveries (rule events), one per
 * rule named in the row that matches the event, in one statement: the rows are deleted in the same
 * transaction, so a worker that dies mid-way leaves them for the next run. Concurrent calls take different rows
 * (`skip locked`).
 *
 * - Only the rules ingestion saw are applied, whatever happened to rules since: a rule created after the
 *   event never applies to it, and one deleted after it still delivers it (as if its delivery had been
 *   written at ingestion).
 * - A delivery to a deactivated connection is `failed` at once, saying why, and counted on its event.
 * - An event canceled before it was routed gets its deliveries as `canceled` (the cancel already counted them).
 * - Nothing is written twice: a delivery is unique by (event, rule). The events are read `for share`, so a
 *   cancel (which locks its event first) happens entirely before or entirely after routing.
 */
export async function routeOutbox(pool: StatementPool, maxBatches: number): Promise<OutboxRouting> {
  const result = await pool.query<{ batches: number; matched: number; routed: number; pending: string[]; events: string[] | null }>({
    name: "switchyard_route_outbox",
    text: routeOutboxStatement,
    values: [maxBatches],
  });
  const { batches = 0, routed = 0, pending = [], events = null } = result.rows[0] ?? {};
  if (events === null) return { batches, routed, pending };
  // Deliveries written earlier are not in this statement's answer: a new statement (so a new snapshot) sees them.
  const all = await pool.query<{ id: string }>("select id from rule_events where event_id = any($1::uuid[]) and status = 'pending'", [
    events,
  ]);
  return { batches, routed, pending: all.rows.map((r) => r.id) };
}

const routeOutboxStatement = `
    with taken as (
      delete from route_outbox where id in (
        select id from route_outbox order by id limit $1 for update skip locked)
      returning events, rules
    ),
    named as (
      select u.event_id, t.rules from taken t cross join lateral unnest(t.events) as u(event_id)
    ),
    batch as (
      select e.id, e.workspace_id, e.event, e.resource, e.resource_id, e.status, n.rules
      from named n join events e on e.id = n.event_id
      order by e.id for share of e
    ),
    matches as (
      select b.id as event_id, b.workspace_id, b.status as event_status, r.id as rule_id, r.connection_id,
        c.integration_type, c.active, c.inactive_reason
      from batch b
      join rules r on r.id = any(b.rules) and r.workspace_id = b.workspace_id and r.event = b.event
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
    ),
    tally as (
      select (select count(*) from taken)::int as batches, (select count(*) from matches)::int as matched,
        (select count(*) from routed)::int as routed
    )
    select tally.*, (select coalesce(json_agg(id), '[]') from routed where status = 'pending') as pending,
      -- Only when some deliveries existed already (an event named twice): the caller then reads them.
      case when tally.routed < tally.matched then (select json_agg(event_id) from named) end as events
    from tally`;

/**
 * Wakes the `route` task when an outbox row has waited longer than `olderThanMs` and no `route` job is due or
 * running: the wake was lost (the ingesting process died between its commit and the wake, or the database
 * before the wake's asynchronous commit), or the job died with its worker, locked for longer than `staleAfterMs`
 * (graphile-worker would free it only after hours; the new job takes over the key). Answers whether it woke it.
 */
export async function wakeStaleRouting(pool: StatementPool, olderThanMs: number, staleAfterMs: number): Promise<boolean> {
  const waiting = await pool.query<{ stale: boolean | null }>(
    `select (select created_at < now() - make_interval(secs => $1) from route_outbox order by id limit 1)
      and not exists (
        select 1 from graphile_worker.jobs j where j.task_identifier = $3
          and (j.locked_at > now() - make_interval(secs => $2) or (j.locked_at is null and j.run_at <= now()))
      ) as stale`,
    [olderThanMs / 1000, staleAfterMs / 1000, routeTask],
  );
  if (waiting.rows[0]?.stale !== true) return false;
  await queueRouting(pool);
  return true;
}
