-- Whether the `route` task ($3) needs a wake: an outbox row has waited longer than $1 seconds and no `route`
-- job is due or running (one locked for longer than $2 seconds died with its worker).
select (select created_at < now() - make_interval(secs => $1::float8) from route_outbox order by id limit 1)
  and not exists (
    select 1 from graphile_worker.jobs j where j.task_identifier = $3::text
      and (j.locked_at > now() - make_interval(secs => $2::float8) or (j.locked_at is null and j.run_at <= now()))
  ) as stale;
