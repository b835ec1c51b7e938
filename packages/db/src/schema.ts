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
  connection_field_catalogs: ConnectionFieldCatalogsTable;
  connection_default_mappings: ConnectionDefaultMappingsTable;
  route_outbox: RouteOutboxTable;
  rule_events: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  rate_limits: RateLimitsTable;
  embed_sessions: EmbedSessionsTable;
  embed_session_tokens: EmbedSessionTokensTable;
  oauth_authorizations: OAuthAuthorizationsTable;
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
  /** Our own account of why the connection is inactive (shown as `inactive_detail`). */
  inactive_reason: string | null;
  /** The same reason in Meshes' vocabulary (shown as `inactive_reason`); null when Meshes has no word for it. */
  inactive_reason_code: ColumnType<InactiveReasonCode | null, InactiveReasonCode | null | undefined, InactiveReasonCode | null>;
  /** Hidden from user interfaces; listed and routed to all the same. */
  hidden: ColumnType<boolean, boolean | undefined, boolean>;
  /** The caller that made it: an access key, `cli`, or `system` for connections older than the column. */
  created_by: ColumnType<string, string, never>;
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
  /** Hidden from dashboards (Meshes' flag); the API lists hidden rules too. */
  hidden: ColumnType<boolean, boolean | undefined, boolean>;
  /** The access key of the machine token that made it, `cli`, or `system` for rules older than the column. */
  created_by: ColumnType<string, string | undefined, never>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  deleted_at: ColumnType<Date | null, never, Date>;
}

/** An OAuth authorization waiting for the provider's callback (migration 0017): used once, within its expiry. */
export interface OAuthAuthorizationsTable {
  id: string;
  /** SHA-256 of the `state` sent to the provider. */
  state_hash: Buffer;
  /** The PKCE code verifier, sealed with the server's encryption key. */
  verifier_ciphertext: string;
  organization_id: string;
  workspace_id: string;
  integration_type: string;
  connection_name: string;
  /** The connection being re-authorized; null for a new one. */
  connection_id: string | null;
  hidden: ColumnType<boolean, boolean | undefined, never>;
  redirect_uri: string;
  created_by: string;
  created_at: CreatedAt;
  expires_at: ColumnType<Date, Date, never>;
  used_at: ColumnType<Date | null, never, Date>;
}

/** Meshes' reasons for an inactive connection. */
export type InactiveReasonCode =
  | "authentication_invalid"
  | "oauth_authorization_revoked"
  | "oauth_reauthorization_required"
  | "manually_inactivated";

/** A connection's destination field catalog: one row per connection, made on its first read, remade on refresh. */
export interface ConnectionFieldCatalogsTable {
  id: string;
  connection_id: string;
  /** A digest of `fields`: it changes exactly when they do. */
  catalog_version: string;
  /** JSON, written serialized: the field definitions. */
  fields: ColumnType<unknown, string, string>;
  refreshed_at: Date;
  created_by: string;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** A connection's default field mapping: one row per connection, replaced by each stored version. */
export interface ConnectionDefaultMappingsTable {
  connection_id: string;
  /** The current version's id: new with every version. */
  id: string;
  /** The mapping's id, the same across versions. */
  mapping_id: string;
  version: number;
  /** `generated` until a mapping is stored. */
  status: "generated" | "stored";
  name: string;
  /** JSON, written serialized: the mapping schema. */
  schema: ColumnType<unknown, string, string>;
  catalog_version: string | null;
  created_by: string;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | undefined, Date>;
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

/** A session's role in its workspace: member reads, admin also retries and cancels deliveries, owner as admin. */
export type SessionRole = "owner" | "admin" | "member";
/** What a session sees: its whole workspace, one resource's events, or the workspace read-only (`dashboard`). */
export type SessionType = "workspace" | "resource" | "dashboard";

/** An embed session (docs/sessions.md): minted by a machine token for one workspace; only token hashes are kept. */
export interface EmbedSessionsTable {
  id: string;
  workspace_id: string;
  role: SessionRole;
  session_type: SessionType;
  external_user_id: string | null;
  resource: string | null;
  resource_id: string | null;
  /** Normalised exact origins; empty = any. */
  allowed_origins: string[];
  scopes: string[];
  launch_page: string;
  ttl_seconds: number;
  created_by: string;
  created_at: CreatedAt;
  expires_at: Date;
  revoked_at: ColumnType<Date | null, never, Date>;
  /** SHA-256 of the launch token, which is shown once. */
  launch_token_hash: Buffer;
  launch_expires_at: Date;
  launch_used_at: ColumnType<Date | null, never, Date>;
}

/** The access tokens of a session, as SHA-256 hashes: the first, one per launch exchange, one per refresh. */
export interface EmbedSessionTokensTable {
  token_hash: Buffer;
  session_id: string;
  expires_at: Date;
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
export type EmbedSessionRow = Selectable<EmbedSessionsTable>;
