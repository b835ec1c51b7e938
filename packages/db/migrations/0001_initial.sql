-- Organizations, their access keys (machine credentials), workspaces, their publishable keys, and events.

create table organizations (
  id uuid primary key,
  name text not null,
  created_at timestamptz not null default now()
);

-- The secret is sealed (AES-256-GCM) with the server's encryption key; it is never returned.
create table access_keys (
  id text primary key,
  organization_id uuid not null references organizations (id),
  name text not null,
  secret_ciphertext text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index access_keys_organization_idx on access_keys (organization_id);

create table workspaces (
  id uuid primary key,
  organization_id uuid not null references organizations (id),
  name text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index workspaces_organization_idx on workspaces (organization_id, id);

-- Only a SHA-256 of the full key is kept; the key is shown once, at creation or rotation.
create table publishable_keys (
  id text primary key,
  workspace_id uuid not null references workspaces (id),
  name text not null,
  key_hash bytea not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
-- At most one active key per workspace: rotation revokes the old key in the same transaction.
create unique index publishable_keys_one_active_idx on publishable_keys (workspace_id) where revoked_at is null;

create table events (
  id uuid primary key,
  workspace_id uuid not null references workspaces (id),
  event text not null,
  resource text,
  resource_id text,
  payload jsonb not null,
  status text not null,
  created_by text not null,
  created_at timestamptz not null default now()
);
create index events_workspace_idx on events (workspace_id, id);
