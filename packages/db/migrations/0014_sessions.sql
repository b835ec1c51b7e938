-- Embed sessions (docs/sessions.md): short-lived credentials that a backend mints, with a machine token, for one
-- workspace, to hand to an embedded dashboard. Only SHA-256 hashes of their tokens are kept (the tokens are
-- 256 random bits, so a plain hash suffices). Expired sessions stay, for the list (`is_expired`); nothing purges
-- them yet.
create table embed_sessions (
  id uuid primary key,
  workspace_id uuid not null references workspaces (id),
  role text not null check (role in ('owner', 'admin', 'member')),
  session_type text not null check (session_type in ('workspace', 'resource', 'dashboard')),
  external_user_id text,
  -- A resource session is bound to one resource and id; the other kinds to none.
  resource text,
  resource_id text,
  -- Exact origins (scheme://host[:port]), normalised; empty = any.
  allowed_origins text[] not null default '{}',
  scopes text[] not null default '{}',
  launch_page text not null check (launch_page in ('dashboard', 'connections', 'rules', 'events')),
  -- What a refresh adds, from the moment of the refresh.
  ttl_seconds integer not null check (ttl_seconds between 300 and 3600),
  created_by text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  -- The launch token: exchanged once, before launch_expires_at, for an access token.
  launch_token_hash bytea not null unique,
  launch_expires_at timestamptz not null,
  launch_used_at timestamptz,
  check ((session_type = 'resource') = (resource is not null and resource_id is not null)),
  check (resource is not null or resource_id is null)
);
-- The list: one workspace's sessions, newest first (ids are UUIDv7).
create index embed_sessions_workspace_idx on embed_sessions (workspace_id, id);

-- A session's access tokens: the one minted with it, one per launch exchange and one per refresh. A refresh
-- shortens the expiry of the tokens it replaces to a short grace, so a request in flight does not fail.
create table embed_session_tokens (
  token_hash bytea primary key,
  session_id uuid not null references embed_sessions (id),
  expires_at timestamptz not null
);
create index embed_session_tokens_session_idx on embed_session_tokens (session_id);
