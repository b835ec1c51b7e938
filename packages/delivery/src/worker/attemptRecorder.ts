import { type AttemptRecord, recordCompletedAttempts, type StatementPool } from "./deliveryStore.js";

/** A successful attempt to record: what `recordCompletedAttempts` takes. */
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

interface Pending {
  readonly attempt: CompletedAttempt;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for successful attempts, the common case: while `maxInFlight` recording statements run,
 * attempts that end wait and are then recorded together, in one statement and one commit. At low load each
 * is recorded alone at once; under load a commit (a flush to disk) and a statement serve many deliveries.
 * If a group's statement fails, each of its attempts is recorded alone, so that only a bad one fails.
 * Failed and retried attempts keep their own transaction (`recordAttempt`): they schedule jobs and
 * count failure streaks, and are rare by comparison.
 */
export function createAttemptRecorder(pool: StatementPool, options: AttemptRecorderOptions): AttemptRecorder {
  const queue: Pending[] = [];
  let inFlight = 0;

  const pump = () => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const group = queue.splice(0, options.maxBatch);
      inFlight += 1;
      void recordGroup(group).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  };

  const recordGroup = async (group: readonly Pending[]) => {
    try {
      await recordCompletedAttempts(
        pool,
        group.map((p) => p.attempt),
      );
      for (const pending of group) pending.resolve();
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      await Promise.all(group.map((pending) => recordCompletedAttempts(pool, [pending.attempt]).then(pending.resolve, pending.reject)));
    }
  };

  return {
    completed: (attempt) =>
      new Promise<void>((resolve, reject) => {
        queue.push({ attempt, resolve, reject });
        pump();
      }),
  };
}
