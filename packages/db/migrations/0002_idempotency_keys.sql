-- Idempotency keys, remembered per workspace until `expires_at`. Kept apart from `events` so that expiry is
-- a cheap range delete, and without foreign keys: the ingest statement writes a key and its event together,
-- and the per-row checks would only add cost to the hot path.

create table idempotency_keys (
  workspace_id uuid not null,
  key text not null,
  event_id uuid not null,
  expires_at timestamptz not null,
  constraint idempotency_keys_pkey primary key (workspace_id, key)
);
-- Keys arrive in expiry order, so a BRIN index finds the expired ones for the purge at a fraction of a
-- B-tree's cost on every insert (the ingest path).
create index idempotency_keys_expires_idx on idempotency_keys using brin (expires_at);
