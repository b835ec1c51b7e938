-- Makes sure a `route` job ($1 names the task, $2 is its one key) will run after this statement: updates the
-- waiting one (bringing it forward), or adds one when none waits. Committed asynchronously: a wake lost in a
-- database crash costs a delay, never a delivery, since the worker's sweep wakes the task for any outbox row
-- left waiting (wake_stale_routing.sql).
select set_config('synchronous_commit', 'off', true),
  (select job_id from switchyard_add_job($1::text, '{}'::json, null, $2::text));
