import { type Kysely, sql } from "kysely";

/**
 * Routing and delivery (CONTRACT §5): connections (configured destinations), rules (event filters →
 * one connection and action), rule events (one delivery per matching rule, with its own status and
 * attempts) and the attempts themselves. Events gain their delivery counters.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // `secrets_ciphertext`: the connection's credentials and signing secrets, sealed with the server's key.
  // `failing_since`: when the connection's current run of failed attempts began (null after a success);
  // a connection failing longer than the configured period is deactivated with `inactive_reason`.
  await db.schema
    .createTable("connections")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("workspace_id", "uuid", (c) => c.notNull().references("workspaces.id"))
    .addColumn("integration_type", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("metadata", "jsonb", (c) => c.notNull())
    .addColumn("secrets_ciphertext", "text", (c) => c.notNull())
    .addColumn("active", "boolean", (c) => c.notNull().defaultTo(true))
    .addColumn("inactive_reason", "text")
    .addColumn("failing_since", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    // Deleted connections and rules are kept (their deliveries' history refers to them) but hidden.
    .addColumn("deleted_at", "timestamptz")
    .execute();
  await db.schema.createIndex("connections_workspace_idx").on("connections").columns(["workspace_id", "id"]).execute();

  await db.schema
    .createTable("rules")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("workspace_id", "uuid", (c) => c.notNull().references("workspaces.id"))
    .addColumn("connection_id", "uuid", (c) => c.notNull().references("connections.id"))
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("resource", "text")
    .addColumn("resource_id", "text")
    .addColumn("metadata", "jsonb", (c) => c.notNull())
    .addColumn("active", "boolean", (c) => c.notNull().defaultTo(true))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("deleted_at", "timestamptz")
    .execute();
  await db.schema.createIndex("rules_workspace_idx").on("rules").columns(["workspace_id", "id"]).execute();
  // The ingest statement looks rules up by (workspace, event) among active ones.
  await sql`create index rules_routing_idx on rules (workspace_id, event) where active`.execute(db);
  await db.schema.createIndex("rules_connection_idx").on("rules").column("connection_id").execute();

  await db.schema
    .alterTable("events")
    .addColumn("total_rules", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("completed_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failed_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("canceled_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("started_at", "timestamptz")
    .addColumn("completed_at", "timestamptz")
    .execute();

  // `lease_expires_at`: while `processing`, when the attempt is presumed lost (worker killed) and the
  // delivery goes back to the queue. `next_attempt_at`: when `retrying`, the time of the next attempt.
  await db.schema
    .createTable("rule_events")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("event_id", "uuid", (c) => c.notNull().references("events.id"))
    .addColumn("workspace_id", "uuid", (c) => c.notNull())
    .addColumn("rule_id", "uuid", (c) => c.notNull().references("rules.id"))
    .addColumn("connection_id", "uuid", (c) => c.notNull().references("connections.id"))
    .addColumn("integration_type", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempt_count", "integer", (c) => c.notNull().defaultTo(0))
    // The attempt_count at which the current retry schedule began: a manual retry starts a fresh schedule.
    .addColumn("retry_base", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "timestamptz")
    .addColumn("lease_expires_at", "timestamptz")
    .addColumn("started_at", "timestamptz")
    .addColumn("completed_at", "timestamptz")
    .addColumn("last_error", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("rule_events_event_idx").on("rule_events").columns(["event_id", "rule_id"]).execute();
  await sql`create index rule_events_lease_idx on rule_events (lease_expires_at) where status = 'processing'`.execute(db);
  await db.schema.createIndex("rule_events_replay_idx").on("rule_events").columns(["workspace_id", "status", "created_at"]).execute();
  await db.schema.createIndex("rule_events_connection_idx").on("rule_events").columns(["connection_id", "status", "created_at"]).execute();

  // The event's counters and status follow its rule events' status changes, whoever makes them (the
  // worker, a retry, a cancel): one definition, in one place. Ingestion sets the initial counts itself.
  await sql`
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
    end $$`.execute(db);
  await sql`
    create trigger rule_events_status_changed after update of status on rule_events
    for each row when (old.status is distinct from new.status)
    execute function switchyard_rule_event_status_changed()`.execute(db);

  await db.schema
    .createTable("delivery_attempts")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("rule_event_id", "uuid", (c) => c.notNull().references("rule_events.id"))
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("outcome_code", "text", (c) => c.notNull())
    .addColumn("http_status", "integer")
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .addColumn("request", "jsonb")
    .addColumn("response_headers", "jsonb")
    .addColumn("response_body", "text")
    .addColumn("error", "text")
    .addColumn("next_attempt_at", "timestamptz")
    .addColumn("started_at", "timestamptz", (c) => c.notNull())
    .addColumn("completed_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("delivery_attempts_rule_event_idx").on("delivery_attempts").columns(["rule_event_id", "attempt"]).execute();
}
