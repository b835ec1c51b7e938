-- Turns up to $1 of the oldest routing outbox rows into deliveries, and deletes them, in one statement.
--
-- - Only the rules the ingesting statement saw (named in the row) apply, whatever happened to rules since.
-- - A delivery to a deactivated connection is written `failed` at once, saying why, and counted on its event
--   here (the status trigger counts changes of status, not inserts).
-- - An event canceled before it was routed gets its deliveries `canceled` (the cancel already counted them).
-- - Nothing is written twice: a delivery is unique by (event, rule). The events are read `for share`, so a
--   cancel (which locks its event first) happens entirely before or entirely after routing.
-- - Concurrent calls take different rows (`skip locked`).
--
-- Answers one row: batches taken, deliveries matched and written, the pending ones written, and (only when
-- some existed already) the events, whose pending deliveries the caller then reads with a new snapshot.
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
    and switchyard_rule_matches(r.resource, r.resource_id, b.resource, b.resource_id)
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
    status = switchyard_event_status(e.total_rules, e.completed_count, e.failed_count + d.n, e.canceled_count, e.started_at),
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
from tally;
