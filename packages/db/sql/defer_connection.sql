-- Looks at a connection's ($1) due deliveries again after $3 seconds, in its one drain job: keyed by the
-- connection ($5 is the key), a new deferral keeps the earlier run time. $2 counts the deferrals in a row;
-- $4 names the task. Answers how long until that job is due, in milliseconds. Through `switchyard_add_job`
-- (migration 0018), so the job is added even when the one it replaces was just locked.
select greatest(0, extract(epoch from (job.job_run_at - now())) * 1000)::float8 as due_in_ms
from switchyard_add_job($4::text, json_build_object('connection', $1::uuid, 'deferrals', $2::int),
  now() + make_interval(secs => $3::float8), $5::text, 'preserve_run_at') as job;
