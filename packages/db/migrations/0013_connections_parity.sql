-- Connections in Meshes' shape, their field catalogs and default mappings.
--
-- `hidden` and `created_by` as Meshes has them; connections made before this were made by no caller we can
-- name, so they say 'system'. `inactive_reason_code` is the reason in Meshes' vocabulary (or null when Meshes
-- has no word for it: a 410 Gone, days of failures not due to credentials); `inactive_reason` keeps our own
-- account of it. The only code older rows can be given is the API's deactivation, whose text is known.
alter table connections
  add column hidden boolean not null default false,
  add column created_by text not null default 'system',
  add column inactive_reason_code text
    constraint connections_inactive_reason_code_check check (inactive_reason_code in (
      'authentication_invalid', 'oauth_authorization_revoked', 'oauth_reauthorization_required', 'manually_inactivated'));
alter table connections alter column created_by drop default;
update connections set inactive_reason_code = 'manually_inactivated'
where not active and inactive_reason = 'deactivated through the API';

-- The webhook's action is now `send_webhook`, Meshes' name: the worker hands a delivery the rule's action
-- as stored, so the rules that say `send` are renamed here, once.
update rules r set metadata = jsonb_set(r.metadata, '{action}', '"send_webhook"')
from connections c
where c.id = r.connection_id and c.integration_type = 'webhook' and r.metadata ->> 'action' = 'send';

-- A connection's destination field catalog: made on its first read and again on each refresh.
-- `catalog_version` is a digest of `fields`, so it changes exactly when they do.
create table connection_field_catalogs (
  id uuid primary key,
  connection_id uuid not null unique references connections (id),
  catalog_version text not null,
  fields jsonb not null,
  refreshed_at timestamptz not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- A connection's default field mapping: one row per connection, made with it as `generated`; each stored
-- version replaces the row with `version` + 1 and a new `id` (`mapping_id` stays). Not yet applied by delivery.
create table connection_default_mappings (
  connection_id uuid primary key references connections (id),
  id uuid not null unique,
  mapping_id uuid not null unique,
  version integer not null check (version >= 1),
  status text not null check (status in ('generated', 'stored')),
  name text not null,
  schema jsonb not null,
  catalog_version text,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- UUIDv7 (the ids Switchyard makes) for the existing connections' mappings: the time in the first 48 bits,
-- version 7 over gen_random_uuid's version 4 (bits 52 and 53 set), its random bits and variant kept.
create function pg_temp.uuidv7() returns uuid language sql volatile as $$
  select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
$$;

insert into connection_default_mappings (connection_id, id, mapping_id, version, status, name, schema, created_by)
select id, pg_temp.uuidv7(), pg_temp.uuidv7(), 1, 'generated', 'Default mapping', '{"schema_version": 1, "fields": []}', 'system'
from connections
order by id;

drop function pg_temp.uuidv7();
