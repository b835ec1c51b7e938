-- Looks at a connection's ($1) due deliveries again after $3 seconds, in its one drain job: keyed by the
-- connection ($5 is the key), a new deferral keeps the earlier run time. $2 counts the deferrals in a row;
-- $4 names the task. Answers how long until that job is due, in milliseconds.
select greatest(0, extract(epoch from (job.run_at - now())) * 1000)::float8 as due_in_ms
from graphile_worker.add_job($4::text, json_build_object('connection', $1::uuid, 'deferrals', $2::int),
  run_at := now() + make_interval(secs => $3::float8),
  job_key := $5::text, job_key_mode := 'preserve_run_at') as job;
