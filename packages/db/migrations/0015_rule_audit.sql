-- Meshes' rule shape carries `hidden`, `created_by` and `updated_at`. Rules stored before this were made by a
-- caller nobody recorded: they read `system`. Adding the columns with constant defaults rewrites no row.

alter table rules
  add column hidden boolean not null default false,
  add column created_by text not null default 'system',
  add column updated_at timestamptz not null default now();

update rules set updated_at = created_at;
