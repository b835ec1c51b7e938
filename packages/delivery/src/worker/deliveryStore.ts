import { type Kysely, sql } from "kysely";
import type pg from "pg";
import type { OutcomeCode } from "../policy/decideAttempt.js";

/** The delivery worker reads and writes through these statements only; the schema is the server's (0003_routing). */
export type DeliveryDb = Kysely<unknown>;

/**
 * The pool under `DeliveryDb`, for the hot statements (routing, recording successful attempts): they run on it
 * prepared by name, so each pooled connection plans them once instead of at every call (their plans cost more
 * than their work at the sizes delivery sees). Kysely cannot name a statement.
 */
export type StatementPool = Pick<pg.Pool, "query">;

export const deliverTask = "deliver";

/** Seeds the advisory-lock keys of per-connection claims, apart from any other advisory lock in the database. */
const connectionLockSeed = 0x5357_4430;

/** A rule event claimed for one attempt, with everything the attempt needs. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly attempt_count: number;
  readonly retry_base: number;
  readonly action: string;
  readonly connection_id: string;
  readonly integration_type: string;
  readonly connection_metadata: unknown;
  readonly secrets_ciphertext: string;
  readonly connection_active: boolean;
  readonly inactive_reason: string | null;
  readonly event_id: string;
  readonly workspace_id: string;
  readonly event: string;
  readonly resource: string | null;
  readonly resource_id: string | null;
  readonly payload: Record<string, unknown>;
  readonly event_created_at: Date;
}

export interface ClaimLimits {
  /** Claim at most this many (this process's free attempt slots). */
  readonly capacity: number;
  /** Attempts in flight to one connection, across every worker, that a claim may bring it up to. */
  readonly perConnection: number;
  readonly leaseMs: number;
}

/**
 * Claims, for one attempt each, the due deliveries among `ids` that fit: at most `capacity`, and no
 * connection above `perConnection` attempts in flight across every worker. Claims touching the same
 * connection take turns (a transaction-scoped advisory lock per connection, taken in id order so two
 * claims cannot deadlock), so each counts the others' attempts and the cap is exact. A claim sets `processing`,
 * counts the attempt and sets a lease after which a lost attempt goes back to the queue. Deliveries that are
 * not due, already claimed, finished or canceled are skipped, so a job that runs twice delivers once. Returns
 * what was claimed, and the due deliveries left for later (see `deferConnection`) with their connections.
 *
 * One round trip: the server's `switchyard_claim_deliveries` (migration 0006), so the lock is held only while
 * PostgreSQL works. Its commit is asynchronous: a claim lost in a database crash leaves the delivery due
 * again, to be attempted again, which at-least-once delivery allows (the attempt keeps its `webhook-id`); and
 * the attempt's record, committed synchronously, flushes the claim before it, so no attempt is recorded
 * against a claim that was lost.
 */
export async function claimDeliveries(
  db: DeliveryDb,
  ids: readonly string[],
  limits: ClaimLimits,
): Promise<{ claimed: ClaimedDelivery[]; left: string[]; leftConnections: Set<string> }> {
  const result = await sql<ClaimedDelivery & { claimed: boolean }>`
    select * from switchyard_claim_deliveries(${ids}::uuid[], ${limits.capacity}::int, ${limits.perConnection}::int,
      ${limits.leaseMs / 1000}::float8, ${connectionLockSeed}::bigint)`.execute(db);
  const claimed: ClaimedDelivery[] = [];
  const left: string[] = [];
  const leftConnections = new Set<string>();
  for (const { claimed: isClaimed, ...row } of result.rows) {
    if (isClaimed) claimed.push(row);
    else {
      left.push(row.id);
      leftConnections.add(row.connection_id);
    }
  }
  return { claimed, left, leftConnections };
}

/** A connection's due deliveries, oldest first: what a freed attempt slot for it takes next. */
export async function dueDeliveriesOf(db: DeliveryDb, connectionId: string, limit: number): Promise<string[]> {
  const result = await sql<{ id: string }>`
    select id from rule_events
    where connection_id = ${connectionId} and status in ('pending', 'retrying') and coalesce(next_attempt_at, now()) <= now()
    order by created_at limit ${limit}`.execute(db);
  return result.rows.map((r) => r.id);
}

/**
 * Looks at a connection's due deliveries again after `delayMs`, in its one drain job (`drainConnection`): however
 * many batches find the connection at its cap, it has one such job waiting at a time (keyed by the connection; a
 * new deferral keeps the earlier run time). The job remembers how often the connection was deferred in a row.
 * Answers how long until that job is due, in milliseconds.
 */
export async function deferConnection(db: DeliveryDb, connectionId: string, deferrals: number, delayMs: number): Promise<number> {
  const result = await sql<{ due_in_ms: number }>`
    select greatest(0, extract(epoch from (job.run_at - now())) * 1000)::float8 as due_in_ms
    from graphile_worker.add_job(${deliverTask}, json_build_object('connection', ${connectionId}::uuid, 'deferrals', ${deferrals}::int),
      run_at := now() + make_interval(secs => ${delayMs / 1000}),
      job_key := ${`drain:${connectionId}`}, job_key_mode := 'preserve_run_at') as job`.execute(db);
  return result.rows[0]?.due_in_ms ?? 0;
}

export interface AttemptRecord {
  readonly ruleEventId: string;
  readonly attempt: number;
  readonly outcome: OutcomeCode;
  readonly httpStatus: number | null;
  readonly durationMs: number;
  readonly request: unknown;
  readonly responseHeaders: unknown;
  readonly responseBody: string | null;
  readonly error: string | null;
  readonly startedAt: Date;
  readonly completedAt: Date;
}

export type AttemptResolution =
  | { readonly status: "completed" }
  | { readonly status: "failed"; readonly lastError: string }
  | { readonly status: "retrying"; readonly lastError: string; readonly delayMs: number };

/**
 * Records an attempt and moves its delivery on, in one transaction: the attempt row, the delivery's new
 * status (only if it is still ours: `processing` under this attempt's claim, so a cancel during the attempt
 * wins, and so does a newer claim made after this attempt's lease ran out), the retry job at the next attempt
 * time (keyed by the delivery, so a manual retry and an automatic one never both run), and the
 * connection's failure streak: a success ends it; a connection that has failed for longer than
 * `deactivateAfterMs` is deactivated, its waiting deliveries failed with the reason.
 */
export async function recordAttempt(
  db: DeliveryDb,
  record: AttemptRecord,
  resolution: AttemptResolution,
  connection: { readonly id: string; readonly deactivateAfterMs: number; readonly deactivateNow?: string | undefined },
  attemptId: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const nextAttemptAt = resolution.status === "retrying" ? new Date(record.completedAt.getTime() + resolution.delayMs) : null;
    await sql`
      insert into delivery_attempts (id, rule_event_id, attempt, outcome_code, http_status, duration_ms, request, response_headers,
        response_body, error, next_attempt_at, started_at, completed_at)
      values (${attemptId}, ${record.ruleEventId}, ${record.attempt}, ${record.outcome}, ${record.httpStatus}, ${record.durationMs},
        ${storableJson(record.request)}::jsonb, ${storableJson(record.responseHeaders)}::jsonb,
        ${storableText(record.responseBody)}, ${storableText(record.error)}, ${nextAttemptAt}, ${record.startedAt}, ${record.completedAt})`.execute(
      trx,
    );
    const updated = await sql`
      update rule_events set
        status = ${resolution.status},
        last_error = ${resolution.status === "completed" ? null : resolution.lastError},
        next_attempt_at = ${nextAttemptAt},
        completed_at = ${resolution.status === "retrying" ? null : record.completedAt},
        lease_expires_at = null
      where id = ${record.ruleEventId} and status = 'processing' and attempt_count = ${record.attempt}`.execute(trx);
    if (resolution.status === "retrying" && Number(updated.numAffectedRows ?? 0n) > 0) {
      await sql`select graphile_worker.add_job(${deliverTask}, json_build_object('rule_events', json_build_array(${record.ruleEventId}::uuid)),
        run_at := ${nextAttemptAt}, job_key := ${`deliver:${record.ruleEventId}`})`.execute(trx);
    }
    if (resolution.status === "completed") {
      await sql`update connections set failing_since = null where id = ${connection.id} and failing_since is not null`.execute(trx);
      return;
    }
    const streak = await sql<{ failing_since: Date }>`
      update connections set failing_since = coalesce(failing_since, ${record.startedAt})
      where id = ${connection.id} returning failing_since`.execute(trx);
    const since = streak.rows[0]?.failing_since;
    const reason =
      connection.deactivateNow ??
      (since !== undefined && record.completedAt.getTime() - since.getTime() >= connection.deactivateAfterMs
        ? `every attempt failed since ${since.toISOString()}`
        : undefined);
    if (reason !== undefined) await deactivateConnection(trx, connection.id, reason);
  });
}

/**
 * Records successful attempts, many in one statement (so one commit): each attempt row, and each delivery
 * `completed` if it is still this attempt's (as `recordAttempt` does), and the end of the connections'
 * failure streaks. Rejects as a whole; the caller may then record the attempts one by one.
 */
export async function recordCompletedAttempts(
  pool: StatementPool,
  attempts: ReadonlyArray<{ readonly record: AttemptRecord; readonly connectionId: string; readonly attemptId: string }>,
): Promise<void> {
  const rows = attempts.map(({ record, connectionId, attemptId }) => ({
    id: attemptId,
    rule_event_id: record.ruleEventId,
    attempt: record.attempt,
    outcome_code: record.outcome,
    http_status: record.httpStatus,
    duration_ms: record.durationMs,
    request: record.request ?? null,
    response_headers: record.responseHeaders ?? null,
    response_body: record.responseBody,
    error: record.error,
    started_at: record.startedAt,
    completed_at: record.completedAt,
    connection_id: connectionId,
  }));
  await pool.query({ name: "switchyard_record_completed_attempts", text: recordCompletedStatement, values: [storableJson(rows)] });
}

const recordCompletedStatement = `
    with input as (
      select * from jsonb_to_recordset($1::jsonb) as r(
        id uuid, rule_event_id uuid, attempt int, outcome_code text, http_status int, duration_ms int, request jsonb,
        response_headers jsonb, response_body text, error text, started_at timestamptz, completed_at timestamptz, connection_id uuid)
    ),
    recorded as (
      insert into delivery_attempts (id, rule_event_id, attempt, outcome_code, http_status, duration_ms, request, response_headers,
        response_body, error, next_attempt_at, started_at, completed_at)
      select id, rule_event_id, attempt, outcome_code, http_status, duration_ms, request, response_headers,
        response_body, error, null, started_at, completed_at
      from input
    ),
    moved as (
      update rule_events re set status = 'completed', last_error = null, next_attempt_at = null,
        completed_at = i.completed_at, lease_expires_at = null
      from input i
      where re.id = i.rule_event_id and re.status = 'processing' and re.attempt_count = i.attempt
    ),
    healed as (
      update connections set failing_since = null
      where id in (select connection_id from input) and failing_since is not null
    )
    select 1`;

/**
 * Text as PostgreSQL can store it: a destination's answer may hold NUL characters, which `text` and `jsonb`
 * refuse (the attempt could then never be recorded, and would be sent again at every lease's end).
 */
function storableText(text: string | null): string | null {
  return text?.replaceAll("\u0000", "\ufffd") ?? null;
}

/** `value` as JSON that `jsonb` accepts: every string's NUL characters replaced (`jsonb` refuses `\u0000`). */
function storableJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) => (typeof v === "string" ? storableText(v) : v));
}

/** Deactivates a connection and fails its waiting deliveries, saying why. */
export async function deactivateConnection(db: DeliveryDb, connectionId: string, reason: string): Promise<void> {
  await sql`
    update connections set active = false, inactive_reason = ${reason}, updated_at = now()
    where id = ${connectionId} and active`.execute(db);
  await sql`
    update rule_events set status = 'failed', last_error = ${`connection deactivated: ${reason}`}, completed_at = now(), next_attempt_at = null
    where connection_id = ${connectionId} and status in ('pending', 'retrying')`.execute(db);
}

/** Fails a claimed delivery without an attempt (its connection was deactivated meanwhile). */
export async function failWithoutAttempt(db: DeliveryDb, ruleEventId: string, lastError: string): Promise<void> {
  await sql`
    update rule_events set status = 'failed', last_error = ${lastError}, completed_at = now(), lease_expires_at = null
    where id = ${ruleEventId} and status = 'processing'`.execute(db);
}

/**
 * Gives a job of its own to every due delivery that has waited more than `staleAfterMs` without an
 * attempt: its job was lost with a worker that died after taking it and before claiming (graphile-worker
 * frees such a job only after hours). Keyed by delivery, so a delivery never has two such jobs.
 */
export async function requeueStaleDeliveries(db: DeliveryDb, staleAfterMs: number, limit: number): Promise<number> {
  // Connection by connection, so that rule_events_connection_idx (connection_id, status, created_at) finds the
  // waiting rows: a scan of the whole table (its history included) every sweep grows with the table. The
  // `created_at` bound is implied by the due-time bound (a delivery is never due before it was created) and
  // is what the index can use.
  const result = await sql<{ id: string }>`
    select re.id from (
      select waiting.id from connections c
      cross join lateral (
        select id, coalesce(next_attempt_at, created_at) as due from rule_events
        where connection_id = c.id and status in ('pending', 'retrying')
          and created_at < now() - make_interval(secs => ${staleAfterMs / 1000})
          and coalesce(next_attempt_at, created_at) < now() - make_interval(secs => ${staleAfterMs / 1000})
        order by created_at limit ${limit}
      ) waiting
      order by waiting.due limit ${limit}
    ) re
    cross join lateral graphile_worker.add_job(${deliverTask}, json_build_object('rule_events', json_build_array(re.id)),
      job_key := 'deliver:' || re.id, job_key_mode := 'preserve_run_at') as job`.execute(db);
  return result.rows.length;
}

/**
 * Puts deliveries whose attempt was lost (the lease ran out: the worker was killed or lost the database)
 * back in the queue, each with its own job. Several workers may sweep at once: SKIP LOCKED shares the work.
 */
export async function requeueExpiredLeases(db: DeliveryDb, limit: number): Promise<number> {
  const result = await sql<{ id: string }>`
    with expired as (
      update rule_events set status = 'retrying', next_attempt_at = now(), lease_expires_at = null,
        last_error = 'the attempt was lost (the worker stopped before recording it); retrying'
      where id in (
        select id from rule_events where status = 'processing' and lease_expires_at < now()
        order by lease_expires_at limit ${limit} for update skip locked)
      returning id
    )
    select e.id from expired e
    cross join lateral graphile_worker.add_job(${deliverTask}, json_build_object('rule_events', json_build_array(e.id)),
      job_key := 'deliver:' || e.id) as job`.execute(db);
  return result.rows.length;
}
