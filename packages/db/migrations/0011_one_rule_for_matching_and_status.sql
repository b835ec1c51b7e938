-- One definition each for the two rules that several statements apply:
--
-- - whether a rule matches an event: same workspace and event name are looked up by index; beyond them a
--   rule with a resource (or resource id) matches only events with that one, and one without matches any.
--   Ingestion counts the matching rules of each event; routing writes a delivery for each.
-- - an event's status from its delivery counters: `pending` until a delivery is started, `processing` until
--   every delivery has finished, then `failed` if any failed, `canceled` if all were canceled, else `completed`
--   (an event no rule matches is `completed` at once). The delivery status trigger, routing (for deliveries it
--   fails at once) and the cancel of an event not yet routed set it through this function; ingestion, where no
--   delivery exists yet, writes its two cases out (sql/insert_events.sql says why).
--
-- Both are plain SQL expressions, so PostgreSQL inlines them into the statements that call them: their plans,
-- and so their cost, are those of the expressions written out.

create function switchyard_rule_matches(rule_resource text, rule_resource_id text, resource text, resource_id text)
returns boolean language sql immutable parallel safe as $$
  select (rule_resource is null or rule_resource = resource) and (rule_resource_id is null or rule_resource_id = resource_id)
$$;

create function switchyard_event_status(total_rules integer, completed integer, failed integer, canceled integer, started_at timestamptz)
returns text language sql immutable parallel safe as $$
  select case
    when total_rules = 0 then 'completed'
    when completed + failed + canceled < total_rules then case when started_at is null then 'pending' else 'processing' end
    when failed > 0 then 'failed'
    when canceled = total_rules then 'canceled'
    else 'completed' end
$$;

-- The trigger of 0003, as 0007 made it (one update of the event per status change), with the status rule above.
create or replace function switchyard_rule_event_status_changed() returns trigger language plpgsql as $$
declare
  completed_delta integer := (new.status = 'completed')::int - (old.status = 'completed')::int;
  failed_delta integer := (new.status = 'failed')::int - (old.status = 'failed')::int;
  canceled_delta integer := (new.status = 'canceled')::int - (old.status = 'canceled')::int;
  started timestamptz := case when new.status = 'processing' then now() end;
begin
  update events set
    completed_count = completed_count + completed_delta,
    failed_count = failed_count + failed_delta,
    canceled_count = canceled_count + canceled_delta,
    started_at = coalesce(started_at, started),
    status = switchyard_event_status(total_rules, completed_count + completed_delta, failed_count + failed_delta,
      canceled_count + canceled_delta, coalesce(started_at, started)),
    completed_at = case
      when completed_count + completed_delta + failed_count + failed_delta + canceled_count + canceled_delta < total_rules then null
      else coalesce(completed_at, now()) end
  where id = new.event_id;
  return null;
end $$;
