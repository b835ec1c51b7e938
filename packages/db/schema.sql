-- The schema the migrations make, written by `pnpm --filter @switchyard/db run schema:write`.
-- Never edit it by hand: add a migration, then write it again (a test fails while they disagree).

create table access_keys (
  id text not null,
  organization_id uuid not null,
  name text not null,
  secret_ciphertext text not null,
  created_at timestamp with time zone not null default now(),
  revoked_at timestamp with time zone,
  constraint access_keys_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES organizations(id) ON UPDATE CASCADE,
  constraint access_keys_pkey PRIMARY KEY (id)
);
CREATE INDEX access_keys_organization_idx ON public.access_keys USING btree (organization_id);

create table connection_default_mappings (
  connection_id uuid not null,
  id uuid not null,
  mapping_id uuid not null,
  version integer not null,
  status text not null,
  name text not null,
  schema jsonb not null,
  catalog_version text,
  created_by text not null,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  constraint connection_default_mappings_connection_id_fkey FOREIGN KEY (connection_id) REFERENCES connections(id),
  constraint connection_default_mappings_id_key UNIQUE (id),
  constraint connection_default_mappings_mapping_id_key UNIQUE (mapping_id),
  constraint connection_default_mappings_pkey PRIMARY KEY (connection_id),
  constraint connection_default_mappings_status_check CHECK ((status = ANY (ARRAY['generated'::text, 'stored'::text]))),
  constraint connection_default_mappings_version_check CHECK ((version >= 1))
);

create table connection_field_catalogs (
  id uuid not null,
  connection_id uuid not null,
  catalog_version text not null,
  fields jsonb not null,
  refreshed_at timestamp with time zone not null,
  created_by text not null,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  constraint connection_field_catalogs_connection_id_fkey FOREIGN KEY (connection_id) REFERENCES connections(id),
  constraint connection_field_catalogs_connection_id_key UNIQUE (connection_id),
  constraint connection_field_catalogs_pkey PRIMARY KEY (id)
);

create table connections (
  id uuid not null,
  workspace_id uuid not null,
  integration_type text not null,
  name text not null,
  metadata jsonb not null,
  secrets_ciphertext text not null,
  active boolean not null default true,
  inactive_reason text,
  failing_since timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  deleted_at timestamp with time zone,
  hidden boolean not null default false,
  created_by text not null,
  inactive_reason_code text,
  constraint connections_inactive_reason_code_check CHECK ((inactive_reason_code = ANY (ARRAY['authentication_invalid'::text, 'oauth_authorization_revoked'::text, 'oauth_reauthorization_required'::text, 'manually_inactivated'::text]))),
  constraint connections_pkey PRIMARY KEY (id),
  constraint connections_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id)
);
CREATE INDEX connections_workspace_idx ON public.connections USING btree (workspace_id, id);

create table delivery_attempts (
  id uuid not null,
  rule_event_id uuid not null,
  attempt integer not null,
  outcome_code text not null,
  http_status integer,
  duration_ms integer not null,
  request jsonb,
  response_headers jsonb,
  response_body text,
  error text,
  next_attempt_at timestamp with time zone,
  started_at timestamp with time zone not null,
  completed_at timestamp with time zone not null,
  constraint delivery_attempts_pkey PRIMARY KEY (id),
  constraint delivery_attempts_rule_event_id_fkey FOREIGN KEY (rule_event_id) REFERENCES rule_events(id)
);
CREATE INDEX delivery_attempts_rule_event_idx ON public.delivery_attempts USING btree (rule_event_id, attempt);

create table embed_session_tokens (
  token_hash bytea not null,
  session_id uuid not null,
  expires_at timestamp with time zone not null,
  constraint embed_session_tokens_pkey PRIMARY KEY (token_hash),
  constraint embed_session_tokens_session_id_fkey FOREIGN KEY (session_id) REFERENCES embed_sessions(id)
);
CREATE INDEX embed_session_tokens_session_idx ON public.embed_session_tokens USING btree (session_id);

create table embed_sessions (
  id uuid not null,
  workspace_id uuid not null,
  role text not null,
  session_type text not null,
  external_user_id text,
  resource text,
  resource_id text,
  allowed_origins text[] not null default '{}'::text[],
  scopes text[] not null default '{}'::text[],
  launch_page text not null,
  ttl_seconds integer not null,
  created_by text not null,
  created_at timestamp with time zone not null default now(),
  expires_at timestamp with time zone not null,
  revoked_at timestamp with time zone,
  launch_token_hash bytea not null,
  launch_expires_at timestamp with time zone not null,
  launch_used_at timestamp with time zone,
  constraint embed_sessions_check CHECK (((session_type = 'resource'::text) = ((resource IS NOT NULL) AND (resource_id IS NOT NULL)))),
  constraint embed_sessions_check1 CHECK (((resource IS NOT NULL) OR (resource_id IS NULL))),
  constraint embed_sessions_launch_page_check CHECK ((launch_page = ANY (ARRAY['dashboard'::text, 'connections'::text, 'rules'::text, 'events'::text]))),
  constraint embed_sessions_launch_token_hash_key UNIQUE (launch_token_hash),
  constraint embed_sessions_pkey PRIMARY KEY (id),
  constraint embed_sessions_role_check CHECK ((role = ANY (ARRAY['owner'::text, 'admin'::text, 'member'::text]))),
  constraint embed_sessions_session_type_check CHECK ((session_type = ANY (ARRAY['workspace'::text, 'resource'::text, 'dashboard'::text]))),
  constraint embed_sessions_ttl_seconds_check CHECK (((ttl_seconds >= 300) AND (ttl_seconds <= 3600))),
  constraint embed_sessions_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id)
);
CREATE INDEX embed_sessions_workspace_idx ON public.embed_sessions USING btree (workspace_id, id);

create table events (
  id uuid not null,
  workspace_id uuid not null,
  event text not null,
  resource text,
  resource_id text,
  payload jsonb not null,
  status text not null,
  created_by text not null,
  created_at timestamp with time zone not null default now(),
  total_rules integer not null default 0,
  completed_count integer not null default 0,
  failed_count integer not null default 0,
  canceled_count integer not null default 0,
  started_at timestamp with time zone,
  completed_at timestamp with time zone,
  constraint events_pkey PRIMARY KEY (id),
  constraint events_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id)
);
CREATE INDEX events_workspace_idx ON public.events USING btree (workspace_id, id);

create table idempotency_keys (
  workspace_id uuid not null,
  key text not null,
  event_id uuid not null,
  expires_at timestamp with time zone not null,
  constraint idempotency_keys_pkey PRIMARY KEY (workspace_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON public.idempotency_keys USING brin (expires_at);

create table oauth_authorizations (
  id uuid not null,
  state_hash bytea not null,
  verifier_ciphertext text not null,
  organization_id uuid not null,
  workspace_id uuid not null,
  integration_type text not null,
  connection_name text not null,
  connection_id uuid,
  hidden boolean not null default false,
  redirect_uri text not null,
  created_by text not null,
  created_at timestamp with time zone not null default now(),
  expires_at timestamp with time zone not null,
  used_at timestamp with time zone,
  constraint oauth_authorizations_connection_id_fkey FOREIGN KEY (connection_id) REFERENCES connections(id),
  constraint oauth_authorizations_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES organizations(id) ON UPDATE CASCADE,
  constraint oauth_authorizations_pkey PRIMARY KEY (id),
  constraint oauth_authorizations_state_hash_key UNIQUE (state_hash),
  constraint oauth_authorizations_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id)
);
CREATE INDEX oauth_authorizations_expires_idx ON public.oauth_authorizations USING btree (expires_at);

create table organizations (
  id uuid not null,
  name text not null,
  created_at timestamp with time zone not null default now(),
  constraint organizations_pkey PRIMARY KEY (id)
);

create table publishable_keys (
  id text not null,
  workspace_id uuid not null,
  name text not null,
  key_hash bytea not null,
  created_at timestamp with time zone not null default now(),
  revoked_at timestamp with time zone,
  constraint publishable_keys_pkey PRIMARY KEY (id),
  constraint publishable_keys_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id)
);
CREATE UNIQUE INDEX publishable_keys_one_active_idx ON public.publishable_keys USING btree (workspace_id) WHERE (revoked_at IS NULL);

create table rate_limits (
  key character varying(255) not null,
  points integer not null default 0,
  expire bigint,
  constraint rate_limits_pkey PRIMARY KEY (key)
);

create table route_outbox (
  id bigint not null,
  events uuid[] not null,
  rules uuid[] not null,
  created_at timestamp with time zone not null default now(),
  constraint route_outbox_pkey PRIMARY KEY (id)
);

create table rule_events (
  id uuid not null,
  event_id uuid not null,
  workspace_id uuid not null,
  rule_id uuid not null,
  connection_id uuid not null,
  integration_type text not null,
  status text not null,
  attempt_count integer not null default 0,
  retry_base integer not null default 0,
  next_attempt_at timestamp with time zone,
  lease_expires_at timestamp with time zone,
  started_at timestamp with time zone,
  completed_at timestamp with time zone,
  last_error text,
  created_at timestamp with time zone not null default now(),
  constraint rule_events_connection_id_fkey FOREIGN KEY (connection_id) REFERENCES connections(id),
  constraint rule_events_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id),
  constraint rule_events_pkey PRIMARY KEY (id),
  constraint rule_events_rule_id_fkey FOREIGN KEY (rule_id) REFERENCES rules(id)
);
CREATE INDEX rule_events_connection_idx ON public.rule_events USING btree (connection_id, status, created_at);
CREATE UNIQUE INDEX rule_events_event_rule_key ON public.rule_events USING btree (event_id, rule_id);
CREATE INDEX rule_events_lease_idx ON public.rule_events USING btree (lease_expires_at) WHERE (status = 'processing'::text);
CREATE INDEX rule_events_replay_idx ON public.rule_events USING btree (workspace_id, status, created_at);
CREATE TRIGGER rule_events_status_changed AFTER UPDATE OF status ON public.rule_events FOR EACH ROW WHEN ((old.status IS DISTINCT FROM new.status)) EXECUTE FUNCTION switchyard_rule_event_status_changed();

create table rules (
  id uuid not null,
  workspace_id uuid not null,
  connection_id uuid not null,
  event text not null,
  resource text,
  resource_id text,
  metadata jsonb not null,
  active boolean not null default true,
  created_at timestamp with time zone not null default now(),
  deleted_at timestamp with time zone,
  hidden boolean not null default false,
  created_by text not null default 'system'::text,
  updated_at timestamp with time zone not null default now(),
  constraint rules_connection_id_fkey FOREIGN KEY (connection_id) REFERENCES connections(id),
  constraint rules_pkey PRIMARY KEY (id),
  constraint rules_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id)
);
CREATE INDEX rules_connection_idx ON public.rules USING btree (connection_id);
CREATE INDEX rules_routing_idx ON public.rules USING btree (workspace_id, event) WHERE active;
CREATE INDEX rules_workspace_idx ON public.rules USING btree (workspace_id, id);

create table workspace_catalog (
  workspace_id uuid not null,
  kind text not null,
  key text not null,
  shard integer not null,
  event_count bigint not null,
  first_seen_at timestamp with time zone not null,
  last_seen_at timestamp with time zone not null,
  constraint workspace_catalog_kind_check CHECK ((kind = ANY (ARRAY['event'::text, 'resource'::text]))),
  constraint workspace_catalog_pkey PRIMARY KEY (workspace_id, kind, key, shard),
  constraint workspace_catalog_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id)
);

create table workspaces (
  id uuid not null,
  organization_id uuid not null,
  name text not null,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  description text,
  active boolean not null default true,
  constraint workspaces_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES organizations(id) ON UPDATE CASCADE,
  constraint workspaces_pkey PRIMARY KEY (id)
);
CREATE INDEX workspaces_organization_idx ON public.workspaces USING btree (organization_id, id);

CREATE OR REPLACE FUNCTION public.switchyard_add_job(p_identifier text, p_payload json, p_run_at timestamp with time zone, p_job_key text, p_job_key_mode text DEFAULT 'replace'::text)
 RETURNS TABLE(job_id bigint, job_run_at timestamp with time zone)
 LANGUAGE plpgsql
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.switchyard_claim_deliveries(ids uuid[], capacity integer, per_connection integer, lease_seconds double precision, lock_seed bigint)
 RETURNS TABLE(claimed boolean, id uuid, attempt_count integer, retry_base integer, action text, rule_id uuid, rule_metadata jsonb, mapping_version integer, mapping_schema jsonb, connection_id uuid, integration_type text, connection_metadata jsonb, secrets_ciphertext text, connection_active boolean, inactive_reason text, event_id uuid, workspace_id uuid, event text, resource text, resource_id text, payload jsonb, event_created_at timestamp with time zone)
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
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
end $function$;

CREATE OR REPLACE FUNCTION public.switchyard_event_status(total_rules integer, completed integer, failed integer, canceled integer, started_at timestamp with time zone)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select case
    when total_rules = 0 then 'completed'
    when completed + failed + canceled < total_rules then case when started_at is null then 'pending' else 'processing' end
    when failed > 0 then 'failed'
    when canceled = total_rules then 'canceled'
    else 'completed' end
$function$;

CREATE OR REPLACE FUNCTION public.switchyard_rule_event_status_changed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
declare
  completed_delta integer := (new.status = 'completed')::int - (old.status = 'completed')::int;
  failed_delta integer := (new.status = 'failed')::int - (old.status = 'failed')::int;
  canceled_delta integer := (new.status = 'canceled')::int - (old.status = 'canceled')::int;
  started timestamptz := case when new.status = 'processing' then now() end;
begin
  update events set
    completed_count = completed_count + completed_delta,
    failed_count = failed_count + failed_delta,
    canceled_count = canceled_count + canceled_delta,
    started_at = coalesce(started_at, started),
    status = switchyard_event_status(total_rules, completed_count + completed_delta, failed_count + failed_delta,
      canceled_count + canceled_delta, coalesce(started_at, started)),
    completed_at = case
      when completed_count + completed_delta + failed_count + failed_delta + canceled_count + canceled_delta < total_rules then null
      else coalesce(completed_at, now()) end
  where id = new.event_id;
  return null;
end $function$;

CREATE OR REPLACE FUNCTION public.switchyard_rule_matches(rule_resource text, rule_resource_id text, resource text, resource_id text)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
  select (rule_resource is null or rule_resource = resource) and (rule_resource_id is null or rule_resource_id = resource_id)
$function$;
