-- graphile-worker's `add_job` (its migration 000020) can add no job and return no row when a job with the same
-- key is locked between its two statements: its update, which detaches the key of a job already running, still
-- saw the job available; then another worker locked it; then its insert's `on conflict (key) do update ... where
-- locked_at is null` skipped the now-locked row (graphile/worker#580, open). For a delivery's retry, the running
-- job found the delivery not yet due and ended, and the delivery waited, `retrying` with no job, for the
-- sweeper's stale check (`SWITCHYARD_DELIVERY_STALE_MS`, 2 minutes): reliability scenario 4 saw it twice.
--
-- `switchyard_add_job` calls `add_job` again while it returns no row: the next call finds the job locked,
-- detaches its key and inserts a new job. Every keyed job Switchyard adds goes through it.

create function switchyard_add_job(
  p_identifier text,
  p_payload json,
  p_run_at timestamptz,
  p_job_key text,
  p_job_key_mode text default 'replace'
)
returns table (job_id bigint, job_run_at timestamptz)
language plpgsql volatile as $$
declare
  v_id bigint;
  v_run_at timestamptz;
begin
  for attempt in 1..5 loop
    select j.id, j.run_at into v_id, v_run_at
    from graphile_worker.add_job(p_identifier, p_payload, run_at := p_run_at, job_key := p_job_key, job_key_mode := p_job_key_mode) j;
    if v_id is not null then
      return query select v_id, v_run_at;
      return;
    end if;
  end loop;
  raise exception 'graphile_worker.add_job added no job for key % in 5 calls', p_job_key;
end $$;
