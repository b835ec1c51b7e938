-- The routing outbox. Ingestion commits one row with every batch of events that match a rule, naming the
-- events and the rules its snapshot saw, in place of a graphile-worker `route` job per batch: a job costs
-- graphile-worker's `add_job` and a `NOTIFY`, which makes PostgreSQL take turns committing the notifying
-- transactions. The worker's `route` task drains the rows (`routeOutbox` in @switchyard/delivery), woken by a
-- keyed job that ingestion adds outside its transaction.
--
-- Route jobs still queued from before (payload `{ events, rules }`) become outbox rows, so no routing is lost
-- across the upgrade; routing a batch twice writes nothing twice.

create table route_outbox (
  id bigint generated always as identity primary key,
  events uuid[] not null,
  rules uuid[] not null,
  created_at timestamptz not null default now()
);

do $$
begin
  if to_regclass('graphile_worker._private_jobs') is not null then
    with legacy as (
      delete from graphile_worker._private_jobs j
      using graphile_worker._private_tasks t
      where t.id = j.task_id and t.identifier = 'route' and json_typeof(j.payload -> 'events') = 'array'
      returning j.id, j.payload
    )
    insert into route_outbox (events, rules)
    select array(select json_array_elements_text(payload -> 'events'))::uuid[],
      array(select json_array_elements_text(payload -> 'rules'))::uuid[]
    from legacy order by id;
  end if;
end $$;
