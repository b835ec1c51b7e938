-- OAuth connections (docs/integrations.md, "OAuth connections"): an authorization started through the API or the
-- CLI waits here for the provider to send the user back to the callback with its `state`. Only the state's SHA-256
-- is kept (256 random bits: a plain hash suffices); the PKCE verifier is sealed with the server's encryption key,
-- bound to the row. A row is used once (`used_at`), within ten minutes (`expires_at`); rows past their expiry are
-- deleted when later authorizations start. `connection_id` names the connection being re-authorized, if any.
create table oauth_authorizations (
  id uuid primary key,
  state_hash bytea not null unique,
  verifier_ciphertext text not null,
  -- Follows `switchyard org rekey`, as the other references to an organization do.
  organization_id uuid not null references organizations (id) on update cascade,
  workspace_id uuid not null references workspaces (id),
  integration_type text not null,
  connection_name text not null,
  connection_id uuid references connections (id),
  hidden boolean not null default false,
  -- The redirect URI sent with the authorization request, sent again with the code (RFC 6749 § 4.1.3).
  redirect_uri text not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index oauth_authorizations_expires_idx on oauth_authorizations (expires_at);
