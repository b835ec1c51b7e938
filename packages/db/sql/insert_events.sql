-- Stores a batch of events with the routing work they need, in one statement (so one commit).
-- $1: the rows, one jsonb array (see `insertEvents`); $2: how long an idempotency key is remembered, in seconds.
--
-- A keyed row is stored only if it claims its key (new, or expired); concurrent claims of one key serialize on
-- the key's primary key. The active rules of the batch's workspaces and events are read in this statement's
-- snapshot: each event counts those that match it (`total_rules`), and the events that match some are named,
-- with the rules, in one routing outbox row that the worker's `route` task turns into deliveries.
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
      and switchyard_rule_matches(c.resource, c.resource_id, f.resource, f.resource_id)
  ) end as total
  from fresh f
),
inserted as (
  insert into events (id, workspace_id, event, resource, resource_id, payload, status, created_by, total_rules, completed_at)
  select id, workspace_id, event, resource, resource_id, payload,
    -- switchyard_event_status(total, 0, 0, 0, null), written out: with the call here PostgreSQL planned this
    -- prepared statement again at every execution (custom plans), 3–4 µs more per event of a 100-event batch.
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
  exists (select from outbox) as routed;
