import { createGroupCommit, recordCompletedAttempts, type StatementRunner } from "@switchyard/db";
import { type AttemptRecord, completedAttemptRow } from "./attemptRecords.js";

/** A successful attempt to record. */
export interface CompletedAttempt {
  readonly record: AttemptRecord;
  readonly connectionId: string;
  readonly attemptId: string;
}

export interface AttemptRecorder {
  /** Resolves once the attempt is committed; rejects if it could not be (its lease then requeues the delivery). */
  completed(attempt: CompletedAttempt): Promise<void>;
}

export interface AttemptRecorderOptions {
  /** Recording statements at once. */
  readonly maxInFlight: number;
  /** Most attempts one statement records. */
  readonly maxBatch: number;
}

/**
 * The worker's group commit (`createGroupCommit`) for successful attempts, the common case: attempts that end
 * while `maxInFlight` recording statements run are recorded together, in one statement and one commit. If a
 * group's statement fails, each of its attempts is recorded alone, so that only a bad one fails. Failed and
 * retried attempts keep their own transaction (`recordAttempt`): they schedule jobs and count failure streaks,
 * and are rare by comparison.
 */
export function createAttemptRecorder(runner: StatementRunner, options: AttemptRecorderOptions): AttemptRecorder {
  const group = createGroupCommit<CompletedAttempt, void>({
    maxInFlight: options.maxInFlight,
    maxWeight: options.maxBatch,
    commit: (attempts) =>
      recordCompletedAttempts(
        runner,
        attempts.map((a) => completedAttemptRow(a.record, a.connectionId, a.attemptId)),
      ),
  });
  return { completed: (attempt) => group.submit(attempt) };
}
