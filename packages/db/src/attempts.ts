import { preparedStatement, runStatement, type StatementRunner } from "./statements.js";

/** A successful attempt as `recordCompletedAttempts` stores it: its row, and the connection it went to. */
export interface CompletedAttemptRow {
  readonly id: string;
  readonly rule_event_id: string;
  readonly attempt: number;
  readonly outcome_code: string;
  readonly http_status: number | null;
  readonly duration_ms: number;
  readonly request: unknown;
  readonly response_headers: unknown;
  readonly response_body: string | null;
  readonly error: string | null;
  readonly started_at: Date;
  readonly completed_at: Date;
  readonly connection_id: string;
}

const recordCompletedStatement = preparedStatement("record_completed_attempts");

/**
 * Records successful attempts, many in one statement (so one commit): each attempt row, each delivery
 * `completed` if it is still this attempt's, and the end of the connections' failure streaks. Rejects as a
 * whole; the caller may then record the attempts one by one.
 */
export async function recordCompletedAttempts(runner: StatementRunner, attempts: readonly CompletedAttemptRow[]): Promise<void> {
  await runStatement(runner, recordCompletedStatement, [storableJson(attempts)]);
}

/**
 * Text as PostgreSQL can store it: a destination's answer may hold NUL characters, which `text` and `jsonb`
 * refuse (the attempt could then never be recorded, and would be sent again at every lease's end).
 */
export function storableText(text: string | null): string | null {
  return text?.replaceAll("\u0000", "\ufffd") ?? null;
}

/** `value` as JSON that `jsonb` accepts: every string's NUL characters replaced (`jsonb` refuses `\u0000`). */
export function storableJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) => (typeof v === "string" ? storableText(v) : v));
}
