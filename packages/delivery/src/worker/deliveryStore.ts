import { type Kysely, sql } from "kysely";
import type { OutcomeCode } from "../policy/decideAttempt.js";

/** The delivery worker reads and writes through these statements only; the schema is the server's (0003_routing). */
export type DeliveryDb = Kysely<unknown>;

export const deliverTask = "deliver";

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

/**
 * Claims the due, unclaimed deliveries among `ids` for one attempt each: status `processing`, the attempt
 * counted, and a lease after which a lost attempt (worker killed) goes back to the queue. Deliveries that
 * are not due, already claimed, finished or canceled are skipped, so a job that runs twice delivers once.
 */
export async function claimDeliveries(db: DeliveryDb, ids: readonly string[], leaseMs: number): Promise<ClaimedDelivery[]> {
  const result = await sql<ClaimedDelivery>`
    with claimed as (
      update rule_events re set
        status = 'processing',
        attempt_count = re.attempt_count + 1,
        lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000}),
        started_at = coalesce(re.started_at, now()),
        next_attempt_at = null
      where re.id in (
        select id from rule_events
        where id = any(${ids}::uuid[]) and status in ('pending', 'retrying') and coalesce(next_attempt_at, now()) <= now() + interval '1 second'
        for update skip locked)
      returning re.*
    )
    select c.id, c.attempt_count, c.retry_base, r.metadata ->> 'action' as action,
      c.connection_id, cn.integration_type, cn.metadata as connection_metadata, cn.secrets_ciphertext,
      cn.active as connection_active, cn.inactive_reason,
      e.id as event_id, e.workspace_id, e.event, e.resource, e.resource_id, e.payload, e.created_at as event_created_at
    from claimed c
    join rules r on r.id = c.rule_id
    join connections cn on cn.id = c.connection_id
    join events e on e.id = c.event_id`.execute(db);
  return result.rows;
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
        ${JSON.stringify(record.request ?? null)}::jsonb, ${JSON.stringify(record.responseHeaders ?? null)}::jsonb,
        ${record.responseBody}, ${record.error}, ${nextAttemptAt}, ${record.startedAt}, ${record.completedAt})`.execute(trx);
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
