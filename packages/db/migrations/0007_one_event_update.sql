-- The event's counters and status follow its rule events' status changes (0003) in one update of the event
-- instead of two: the status is computed from the counters as they will be after this change. Each delivery
-- changes status at least twice (claimed, then completed or failed), so this halves the event row versions,
-- and their WAL, that delivery writes. Same results as 0003's function.

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
    status = case
      when completed_count + completed_delta + failed_count + failed_delta + canceled_count + canceled_delta < total_rules
        then case when coalesce(started_at, started) is null then 'pending' else 'processing' end
      when failed_count + failed_delta > 0 then 'failed'
      when canceled_count + canceled_delta = total_rules then 'canceled'
      else 'completed' end,
    completed_at = case
      when completed_count + completed_delta + failed_count + failed_delta + canceled_count + canceled_delta < total_rules then null
      else coalesce(completed_at, now()) end
  where id = new.event_id;
  return null;
end $$;
