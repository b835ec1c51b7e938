import {
  type CompletedAttemptRow,
  type Db,
  deliverTask,
  deliveryJobKey,
  type InactiveReasonCode,
  storableJson,
  storableText,
} from "@switchyard/db";
import { sql } from "kysely";
import type { OutcomeCode } from "../policy/decideAttempt.js";

export interface AttemptRecord {
  readonly deliveryId: string;
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
  db: Db,
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
      values (${attemptId}, ${record.deliveryId}, ${record.attempt}, ${record.outcome}, ${record.httpStatus}, ${record.durationMs},
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
      where id = ${record.deliveryId} and status = 'processing' and attempt_count = ${record.attempt}`.execute(trx);
    if (resolution.status === "retrying" && Number(updated.numAffectedRows ?? 0n) > 0) {
      // Through switchyard_add_job (migration 0018): graphile-worker's add_job can add nothing when the delivery's
      // previous job is locked at that moment, which left the delivery retrying with no job.
      await sql`select job_id from switchyard_add_job(${deliverTask}, json_build_object('rule_events', json_build_array(${record.deliveryId}::uuid)),
        ${nextAttemptAt}, ${deliveryJobKey(record.deliveryId)})`.execute(trx);
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
    if (reason !== undefined) await deactivateConnection(trx, connection.id, reason, inactiveReasonCode(record.outcome));
  });
}

/**
 * The reason in Meshes' vocabulary for a deactivation whose last attempt ended with `outcome`: refused
 * credentials (401/403) are `authentication_invalid`; Meshes has no word for the others (a 410 Gone, days
 * of timeouts or 5xx), which keep only our own account (`inactive_reason`).
 */
function inactiveReasonCode(outcome: OutcomeCode): InactiveReasonCode | null {
  return outcome === "auth_failed" ? "authentication_invalid" : null;
}

/**
 * Deactivates a connection and fails its waiting deliveries, saying why (in our words, and in Meshes' when it has
 * them). With `onlyIfSecrets`, only while the connection's stored secrets are still those (an OAuth grant found
 * revoked is not held against the tokens a re-authorization has just stored).
 */
export async function deactivateConnection(
  db: Db,
  connectionId: string,
  reason: string,
  code: InactiveReasonCode | null,
  onlyIfSecrets?: string,
): Promise<void> {
  const updated = await sql`
    update connections set active = false, inactive_reason = ${reason}, inactive_reason_code = ${code}, updated_at = now()
    where id = ${connectionId} and active ${onlyIfSecrets === undefined ? sql`` : sql`and secrets_ciphertext = ${onlyIfSecrets}`}`.execute(
    db,
  );
  if (onlyIfSecrets !== undefined && Number(updated.numAffectedRows ?? 0n) === 0) return;
  await sql`
    update rule_events set status = 'failed', last_error = ${`connection deactivated: ${reason}`}, completed_at = now(), next_attempt_at = null
    where connection_id = ${connectionId} and status in ('pending', 'retrying')`.execute(db);
}

/** Fails a claimed delivery without an attempt (its connection was deactivated meanwhile). */
export async function failWithoutAttempt(db: Db, deliveryId: string, lastError: string): Promise<void> {
  await sql`
    update rule_events set status = 'failed', last_error = ${lastError}, completed_at = now(), lease_expires_at = null
    where id = ${deliveryId} and status = 'processing'`.execute(db);
}

/** The row `recordCompletedAttempts` stores for a successful attempt. */
export function completedAttemptRow(record: AttemptRecord, connectionId: string, attemptId: string): CompletedAttemptRow {
  return {
    id: attemptId,
    rule_event_id: record.deliveryId,
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
  };
}
