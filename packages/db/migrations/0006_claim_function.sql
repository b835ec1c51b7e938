-- Delivery claims in one round trip. Claims of one connection take turns on a transaction-scoped advisory lock
-- (so each counts the others' attempts in flight and the per-connection cap is exact); as separate statements
-- from the worker, the lock was held across three round trips and a synchronous commit, and under load the
-- claims of a busy connection queued behind each other for hundreds of milliseconds. As one function the
-- lock is held for the function's own work and an asynchronous commit (see `claimDeliveries` in the delivery
-- package for why an unflushed claim is safe to lose).
--
-- Only the connections of deliveries still waiting are locked: a deferred job whose deliveries were meanwhile
-- claimed by another route (see `refill` in the delivery package) does not queue behind the claims of their connection.
--
-- Inside the function each statement takes a new snapshot (read committed), so the statement that counts
-- and claims, run after the locks are granted, sees every claim committed before it. Returns the claimed
-- deliveries (`claimed`, with what the attempt needs), then the due ones it left (`claimed` false, only `id`
-- and `connection_id`).

create function switchyard_claim_deliveries(ids uuid[], capacity integer, per_connection integer, lease_seconds double precision, lock_seed bigint)
returns table (
  claimed boolean, id uuid, attempt_count integer, retry_base integer, action text, connection_id uuid,
  integration_type text, connection_metadata jsonb, secrets_ciphertext text, connection_active boolean, inactive_reason text,
  event_id uuid, workspace_id uuid, event text, resource text, resource_id text, payload jsonb, event_created_at timestamptz
)
language plpgsql volatile as $$
#variable_conflict use_column
begin
  perform set_config('synchronous_commit', 'off', true);
  perform pg_advisory_xact_lock(hashtextextended(c.connection_id::text, lock_seed))
  from (
    select distinct re.connection_id from rule_events re
    where re.id = any(ids) and re.status in ('pending', 'retrying')
    order by re.connection_id
  ) c;
  return query
    with candidates as (
      select re.id, re.connection_id from rule_events re
      where re.id = any(ids) and re.status in ('pending', 'retrying')
        and coalesce(re.next_attempt_at, now()) <= now() + interval '1 second'
      for update skip locked
    ),
    busy as (
      select re.connection_id, count(*)::int as n from rule_events re
      where re.status = 'processing' and re.connection_id in (select c.connection_id from candidates c)
      group by re.connection_id
    ),
    chosen as (
      select ranked.id from (
        select c.id, row_number() over (partition by c.connection_id order by c.id) + coalesce(b.n, 0) as slot
        from candidates c left join busy b on b.connection_id = c.connection_id
      ) ranked
      where ranked.slot <= per_connection
      order by ranked.slot, ranked.id
      limit capacity
    ),
    taken as (
      update rule_events re set
        status = 'processing',
        attempt_count = re.attempt_count + 1,
        lease_expires_at = now() + make_interval(secs => lease_seconds),
        started_at = coalesce(re.started_at, now()),
        next_attempt_at = null
      from chosen where re.id = chosen.id
      returning re.*
    )
    select true, t.id, t.attempt_count, t.retry_base, r.metadata ->> 'action',
      t.connection_id, cn.integration_type, cn.metadata, cn.secrets_ciphertext, cn.active, cn.inactive_reason,
      e.id, e.workspace_id, e.event, e.resource, e.resource_id, e.payload, e.created_at
    from taken t
    join rules r on r.id = t.rule_id
    join connections cn on cn.id = t.connection_id
    join events e on e.id = t.event_id;
  -- A new snapshot, in which the claimed rows already read 'processing': the due ones left are the caller's to defer.
  return query
    select false, re.id, null::int, null::int, null::text, re.connection_id, null::text, null::jsonb, null::text,
      null::boolean, null::text, null::uuid, null::uuid, null::text, null::text, null::text, null::jsonb, null::timestamptz
    from rule_events re
    where re.id = any(ids) and re.status in ('pending', 'retrying')
      and coalesce(re.next_attempt_at, now()) <= now() + interval '1 second';
end $$;
