-- Puts deliveries whose attempt was lost (the lease ran out: the worker was killed or lost the database) back
-- in the queue, at most $1, each with its own job ($2 names the task, $3 is the key prefix). Several workers
-- may sweep at once: SKIP LOCKED shares the work.
with expired as (
  update rule_events set status = 'retrying', next_attempt_at = now(), lease_expires_at = null,
    last_error = 'the attempt was lost (the worker stopped before recording it); retrying'
  where id in (
    select id from rule_events where status = 'processing' and lease_expires_at < now()
    order by lease_expires_at limit $1 for update skip locked)
  returning id
)
select e.id from expired e
cross join lateral switchyard_add_job($2::text, json_build_object('rule_events', json_build_array(e.id)),
  null, $3::text || e.id) as job;
