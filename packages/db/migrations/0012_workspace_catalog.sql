-- Meshes' workspace shape and catalog, and organization ids that can change.

-- An organization created before UUIDv4 ids has a UUIDv7 id, which Meshes' API client refuses. `switchyard org
-- rekey` gives it a new id with one update of `organizations.id`: every reference to it follows (ON UPDATE
-- CASCADE). A table added later that names an organization must say the same (a test checks every such key).
alter table access_keys
  drop constraint access_keys_organization_id_fkey,
  add constraint access_keys_organization_id_fkey foreign key (organization_id) references organizations (id) on update cascade;
alter table workspaces
  drop constraint workspaces_organization_id_fkey,
  add constraint workspaces_organization_id_fkey foreign key (organization_id) references organizations (id) on update cascade;

-- Meshes' `description` (nullable), and `active`: an inactive workspace accepts no new events (refused 403 per
-- item, checked where ingestion already reads the workspace) and is otherwise unchanged.
alter table workspaces
  add column description text,
  add column active boolean not null default true;

-- The event names and resources seen in each workspace, with how many committed events carried them. Ingestion
-- adds its batch's counts in the statement that stores the events (`sql/insert_events.sql`), so a rolled back
-- or refused event never counts and an idempotent repeat (not stored) never counts twice. A statement adds to
-- the row of its own `shard` (the writer's lane): concurrent batches of one event name then never wait for each
-- other's commit on one row. A key's figures are the sum (count), least (first seen) and greatest (last seen)
-- over its shards. Rows are updated in place many times a second: half of each page is left free for HOT updates.
create table workspace_catalog (
  workspace_id uuid not null references workspaces (id),
  kind text not null check (kind in ('event', 'resource')),
  key text not null,
  shard integer not null,
  event_count bigint not null,
  first_seen_at timestamptz not null,
  last_seen_at timestamptz not null,
  primary key (workspace_id, kind, key, shard)
) with (fillfactor = 50);

-- The events stored before this migration, counted once (shard 0). An event without a resource counts as
-- `global`, as it is stored since 0010.
insert into workspace_catalog (workspace_id, kind, key, shard, event_count, first_seen_at, last_seen_at)
select e.workspace_id, k.kind, k.key, 0, count(*), min(e.created_at), max(e.created_at)
from events e
cross join lateral (values ('event', e.event), ('resource', coalesce(e.resource, 'global'))) as k (kind, key)
group by e.workspace_id, k.kind, k.key;
