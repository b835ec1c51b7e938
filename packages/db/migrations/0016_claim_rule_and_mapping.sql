-- The claim (0006, generic plans since 0009) returns what a mapped destination needs as well: the rule (its id
-- and metadata, whose inputs such as a channel, a template or a list the plugin reads) and the connection's
-- default mapping (its version, and its schema when it has fields: the worker compiles each version once and
-- a mapping with no fields is not applied at all).

drop function switchyard_claim_deliveries(uuid[], integer, integer, double precision, bigint);

create function switchyard_claim_deliveries(ids uuid[], capacity integer, per_connection integer, lease_seconds double precision, lock_seed bigint)
returns table (
  claimed boolean, id uuid, attempt_count integer, retry_base integer, action text, rule_id uuid, rule_metadata jsonb,
  mapping_version integer, mapping_schema jsonb, connection_id uuid,
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
    select true, t.id, t.attempt_count, t.retry_base, r.metadata ->> 'action', r.id, r.metadata,
      m.version, case when jsonb_array_length(m.schema -> 'fields') > 0 then m.schema end,
      t.connection_id, cn.integration_type, cn.metadata, cn.secrets_ciphertext, cn.active, cn.inactive_reason,
      e.id, e.workspace_id, e.event, e.resource, e.resource_id, e.payload, e.created_at
    from taken t
    join rules r on r.id = t.rule_id
    join connections cn on cn.id = t.connection_id
    left join connection_default_mappings m on m.connection_id = t.connection_id
    join events e on e.id = t.event_id;
  -- A new snapshot, in which the claimed rows already read 'processing': the due ones left are the caller's to defer.
  return query
    select false, re.id, null::int, null::int, null::text, null::uuid, null::jsonb, null::int, null::jsonb, re.connection_id, null::text, null::jsonb, null::text,
      null::boolean, null::text, null::uuid, null::uuid, null::text, null::text, null::text, null::jsonb, null::timestamptz
    from rule_events re
    where re.id = any(ids) and re.status in ('pending', 'retrying')
      and coalesce(re.next_attempt_at, now()) <= now() + interval '1 second';
end $$;

alter function switchyard_claim_deliveries(uuid[], integer, integer, double precision, bigint)
  set plan_cache_mode = force_generic_plan;
