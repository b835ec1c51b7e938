-- Routing and delivery: connections (configured destinations), rules (event filters →
-- one connection and action), rule events (one delivery per matching rule, with its own status and
-- attempts) and the attempts themselves. Events gain their delivery counters.

-- `secrets_ciphertext`: the connection's credentials and signing secrets, sealed with the server's key.
-- `failing_since`: when the connection's current run of failed attempts began (null after a success);
-- a connection failing longer than the configured period is deactivated with `inactive_reason`.
-- Deleted connections and rules are kept (their deliveries' history refers to them) but hidden.
create table connections (
  id uuid primary key,
  workspace_id uuid not null references workspaces (id),
  integration_type text not null,
  name text not null,
  metadata jsonb not null,
  secrets_ciphertext text not null,
  active boolean not null default true,
  inactive_reason text,
  failing_since timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index connections_workspace_idx on connections (workspace_id, id);

create table rules (
  id uuid primary key,
  workspace_id uuid not null references workspaces (id),
  connection_id uuid not null references connections (id),
  event text not null,
  resource text,
  resource_id text,
  metadata jsonb not null,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index rules_workspace_idx on rules (workspace_id, id);
-- The ingest statement looks rules up by (workspace, event) among active ones.
create index rules_routing_idx on rules (workspace_id, event) where active;
create index rules_connection_idx on rules (connection_id);

alter table events
  add column total_rules integer not null default 0,
  add column completed_count integer not null default 0,
  add column failed_count integer not null default 0,
  add column canceled_count integer not null default 0,
  add column started_at timestamptz,
  add column completed_at timestamptz;

-- `lease_expires_at`: while `processing`, when the attempt is presumed lost (worker killed) and the
-- delivery goes back to the queue. `next_attempt_at`: when `retrying`, the time of the next attempt.
-- `retry_base`: the attempt_count at which the current retry schedule began (a manual retry starts a fresh one).
create table rule_events (
  id uuid primary key,
  event_id uuid not null references events (id),
  workspace_id uuid not null,
  rule_id uuid not null references rules (id),
  connection_id uuid not null references connections (id),
  integration_type text not null,
  status text not null,
  attempt_count integer not null default 0,
  retry_base integer not null default 0,
  next_attempt_at timestamptz,
  lease_expires_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  last_error text,
  created_at timestamptz not null default now()
);
create index rule_events_event_idx on rule_events (event_id, rule_id);
create index rule_events_lease_idx on rule_events (lease_expires_at) where status = 'processing';
create index rule_events_replay_idx on rule_events (workspace_id, status, created_at);
create index rule_events_connection_idx on rule_events (connection_id, status, created_at);

-- The event's counters and status follow its rule events' status changes, whoever makes them (the
-- worker, a retry, a cancel): one definition, in one place. Ingestion sets the initial counts itself.
create function switchyard_rule_event_status_changed() returns trigger language plpgsql as $$
begin
  update events set
    completed_count = completed_count + (new.status = 'completed')::int - (old.status = 'completed')::int,
    failed_count = failed_count + (new.status = 'failed')::int - (old.status = 'failed')::int,
    canceled_count = canceled_count + (new.status = 'canceled')::int - (old.status = 'canceled')::int,
    started_at = coalesce(started_at, case when new.status = 'processing' then now() end)
  where id = new.event_id;
  update events set
    status = case
      when completed_count + failed_count + canceled_count < total_rules
        then case when started_at is null then 'pending' else 'processing' end
      when failed_count > 0 then 'failed'
      when canceled_count = total_rules then 'canceled'
      else 'completed' end,
    completed_at = case
      when completed_count + failed_count + canceled_count < total_rules then null
      else coalesce(completed_at, now()) end
  where id = new.event_id;
  return null;
end $$;
create trigger rule_events_status_changed after update of status on rule_events
for each row when (old.status is distinct from new.status)
execute function switchyard_rule_event_status_changed();

create table delivery_attempts (
  id uuid primary key,
  rule_event_id uuid not null references rule_events (id),
  attempt integer not null,
  outcome_code text not null,
  http_status integer,
  duration_ms integer not null,
  request jsonb,
  response_headers jsonb,
  response_body text,
  error text,
  next_attempt_at timestamptz,
  started_at timestamptz not null,
  completed_at timestamptz not null
);
create index delivery_attempts_rule_event_idx on delivery_attempts (rule_event_id, attempt);
