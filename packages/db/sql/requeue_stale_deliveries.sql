-- Gives a job of its own to every due delivery that has waited more than $1 seconds without an attempt (at
-- most $2): its job was lost with a worker that died after taking it and before claiming (graphile-worker
-- frees such a job only after hours). Keyed by delivery ($4 is the key prefix, $3 the task), so a delivery
-- never has two such jobs.
--
-- Connection by connection, so that rule_events_connection_idx (connection_id, status, created_at) finds the
-- waiting rows: a scan of the whole table (its history included) every sweep grows with the table. The
-- `created_at` bound is implied by the due-time bound (a delivery is never due before it was created) and
-- is what the index can use.
select re.id from (
  select waiting.id from connections c
  cross join lateral (
    select id, coalesce(next_attempt_at, created_at) as due from rule_events
    where connection_id = c.id and status in ('pending', 'retrying')
      and created_at < now() - make_interval(secs => $1::float8)
      and coalesce(next_attempt_at, created_at) < now() - make_interval(secs => $1::float8)
    order by created_at limit $2
  ) waiting
  order by waiting.due limit $2
) re
cross join lateral switchyard_add_job($3::text, json_build_object('rule_events', json_build_array(re.id)),
  null, $4::text || re.id, 'preserve_run_at') as job;
