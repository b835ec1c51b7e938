import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/**
 * The complete schema as Kysely sees it: every table Switchyard's code reads or writes, and the part of
 * graphile-worker's schema it reads. `schema.sql` (beside `migrations/`) is what the migrations make of it in
 * PostgreSQL; `ColumnType<Select, Insert, Update>` says what each column takes on insert and update, so a
 * write of a column that only the database sets (a trigger, a default) does not compile.
 */
export interface Database {
  organizations: OrganizationsTable;
  access_keys: AccessKeysTable;
  workspaces: WorkspacesTable;
  publishable_keys: PublishableKeysTable;
  workspace_catalog: WorkspaceCatalogTable;
  events: EventsTable;
  idempotency_keys: IdempotencyKeysTable;
  connections: ConnectionsTable;
  rules: RulesTable;
  route_outbox: RouteOutboxTable;
  rule_events: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  rate_limits: RateLimitsTable;
  "graphile_worker.jobs": GraphileWorkerJobsView;
}

/** Where an event, or one of its deliveries, stands. */
export type EventStatus = "pending" | "processing" | "retrying" | "completed" | "failed" | "canceled";
export type DeliveryStatus = EventStatus;

/** A column the database fills on insert (a default) and code never changes afterwards. */
type CreatedAt = ColumnType<Date, never, never>;

export interface OrganizationsTable {
  id: string;
  name: string;
  created_at: CreatedAt;
}

export interface AccessKeysTable {
  /** The access key itself, `mk_…`: the JWT `kid`. */
  id: string;
  organization_id: string;
  name: string;
  /** The signing secret, sealed with the server's encryption key; never returned. */
  secret_ciphertext: string;
  created_at: CreatedAt;
  revoked_at: ColumnType<Date | null, never, Date>;
}

export interface WorkspacesTable {
  id: string;
  organization_id: string;
  name: string;
  description: ColumnType<string | null, string | null | undefined, string | null>;
  /** An inactive workspace accepts no new events; everything else about it works as before. */
  active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, never, Date>;
}

/**
 * The event names (`kind = 'event'`) and resources (`'resource'`) seen in a workspace. Only the ingest statement
 * writes it (and migration 0012's backfill): a key's figures are spread over `shard` rows, summed on read.
 */
export interface WorkspaceCatalogTable {
  workspace_id: ColumnType<string, never, never>;
  kind: ColumnType<"event" | "resource", never, never>;
  key: ColumnType<string, never, never>;
  shard: ColumnType<number, never, never>;
  /** bigint, which pg returns as a string. */
  event_count: ColumnType<string, never, never>;
  first_seen_at: ColumnType<Date, never, never>;
  last_seen_at: ColumnType<Date, never, never>;
}

export interface PublishableKeysTable {
  /** The key id: the second part of `mesh_pub_<workspace>_<key id>_<secret>`. */
  id: string;
  workspace_id: string;
  name: string;
  /** SHA-256 of the full key; the key itself is shown once. */
  key_hash: Buffer;
  created_at: CreatedAt;
  revoked_at: ColumnType<Date | null, never, Date>;
}

/**
 * The delivery counters and `status` are the database's: ingestion sets the first values in its statement
 * (`total_rules`, and `completed` when no rule matches), routing counts deliveries it fails at once, and
 * after that the `rule_events` status trigger alone keeps them in step. Code never updates them.
 */
export interface EventsTable {
  id: string;
  workspace_id: string;
  event: string;
  /** `global` when the event was sent without one. */
  resource: string | null;
  resource_id: string | null;
  payload: unknown;
  status: ColumnType<EventStatus, EventStatus, never>;
  created_by: string;
  created_at: CreatedAt;
  total_rules: ColumnType<number, number | undefined, never>;
  completed_count: ColumnType<number, never, never>;
  failed_count: ColumnType<number, never, never>;
  canceled_count: ColumnType<number, never, never>;
  started_at: ColumnType<Date | null, never, never>;
  completed_at: ColumnType<Date | null, Date | null | undefined, never>;
}

export interface IdempotencyKeysTable {
  workspace_id: string;
  key: string;
  event_id: string;
  expires_at: Date;
}

export interface ConnectionsTable {
  id: string;
  workspace_id: string;
  integration_type: string;
  name: string;
  /** JSON, written serialized. */
  metadata: ColumnType<unknown, string, string>;
  /** The destination's secrets, sealed with the server's encryption key. */
  secrets_ciphertext: string;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  inactive_reason: string | null;
  /** When the connection's current run of failed attempts began; null after a success. */
  failing_since: ColumnType<Date | null, never, Date | null>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, never, Date>;
  /** Deleted connections are kept (their deliveries' history names them) but hidden. */
  deleted_at: ColumnType<Date | null, never, Date>;
}

export interface RulesTable {
  id: string;
  workspace_id: string;
  connection_id: string;
  event: string;
  /** Null: any resource. */
  resource: string | null;
  /** Null: any resource id. */
  resource_id: string | null;
  /** JSON, written serialized; `action` names what the destination does. */
  metadata: ColumnType<unknown, string, string>;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  deleted_at: ColumnType<Date | null, never, Date>;
}

/** One ingested batch's routing work: its events that match a rule, and the rules its snapshot saw. */
export interface RouteOutboxTable {
  id: Generated<string>;
  events: string[];
  rules: string[];
  created_at: CreatedAt;
}

/** A delivery: one event to one rule's connection, with its own status and attempts (the table keeps its first name). */
export interface DeliveriesTable {
  id: string;
  event_id: string;
  workspace_id: string;
  rule_id: string;
  connection_id: string;
  integration_type: string;
  status: DeliveryStatus;
  attempt_count: ColumnType<number, number | undefined, number>;
  /** The attempt_count at which the current retry schedule began: a manual retry starts a fresh schedule. */
  retry_base: ColumnType<number, number | undefined, number>;
  /** When `retrying`: the time of the next attempt. */
  next_attempt_at: Date | null;
  /** While `processing`: when the attempt is presumed lost and the delivery goes back to the queue. */
  lease_expires_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  last_error: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface DeliveryAttemptsTable {
  id: string;
  rule_event_id: string;
  /** 1 for the delivery's first attempt; counting goes on across manual retries. */
  attempt: number;
  outcome_code: string;
  http_status: number | null;
  duration_ms: number;
  /** What was sent (method, URL, headers without credentials, body size); JSON, written serialized. */
  request: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  response_headers: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  /** The first 16 KiB of the response body. */
  response_body: string | null;
  error: string | null;
  next_attempt_at: Date | null;
  started_at: Date;
  completed_at: Date;
}

/** rate-limiter-flexible's `RateLimiterPostgres` table: its columns, in its order; it alone writes them. */
export interface RateLimitsTable {
  key: string;
  points: ColumnType<number, number | undefined, number>;
  /** Epoch milliseconds, as a string (bigint). */
  expire: string | null;
}

/** graphile-worker's public view of its jobs (its schema is its own: read, never written, by our code). */
export interface GraphileWorkerJobsView {
  id: ColumnType<string, never, never>;
  task_identifier: ColumnType<string, never, never>;
  key: ColumnType<string | null, never, never>;
  run_at: ColumnType<Date, never, never>;
  locked_at: ColumnType<Date | null, never, never>;
  attempts: ColumnType<number, never, never>;
}

export type Organization = Selectable<OrganizationsTable>;
export type AccessKey = Selectable<AccessKeysTable>;
export type NewAccessKey = Insertable<AccessKeysTable>;
export type Workspace = Selectable<WorkspacesTable>;
export type WorkspaceUpdate = Updateable<WorkspacesTable>;
export type PublishableKey = Selectable<PublishableKeysTable>;
export type EventRow = Selectable<EventsTable>;
export type ConnectionRow = Selectable<ConnectionsTable>;
export type NewConnection = Insertable<ConnectionsTable>;
export type ConnectionUpdate = Updateable<ConnectionsTable>;
export type RuleRow = Selectable<RulesTable>;
export type NewRule = Insertable<RulesTable>;
export type RuleUpdate = Updateable<RulesTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
export type DeliveryAttemptRow = Selectable<DeliveryAttemptsTable>;
