import type { ColumnType } from "kysely";
import type { Db } from "../db/database.js";

/** One attempt of a delivery, as the delivery worker recorded it (0003_routing); read-only here. */
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

export interface DeliveryAttemptRow {
  id: string;
  attempt: number;
  outcome_code: string;
  http_status: number | null;
  duration_ms: number;
  request: Record<string, unknown> | null;
  response_headers: Record<string, unknown> | null;
  response_body: string | null;
  error: string | null;
  next_attempt_at: Date | null;
  started_at: Date;
  completed_at: Date;
}

/** Every attempt of one delivery, oldest first. The caller has checked that the delivery is the organization's. */
export async function listDeliveryAttempts(db: Db, ruleEventId: string): Promise<DeliveryAttemptRow[]> {
  return db
    .selectFrom("delivery_attempts")
    .select([
      "id",
      "attempt",
      "outcome_code",
      "http_status",
      "duration_ms",
      "request",
      "response_headers",
      "response_body",
      "error",
      "next_attempt_at",
      "started_at",
      "completed_at",
    ])
    .where("rule_event_id", "=", ruleEventId)
    .orderBy("attempt")
    .orderBy("started_at")
    .execute();
}
